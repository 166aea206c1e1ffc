#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rewrites swift-prometheus output, line by line in one pass, into what a Go client writes for
/// the requested format.
///
/// In both formats the `le` bound of every histogram bucket is re-spelled as Go spells it
/// (`le="1"` in the text format, `le="1.0"` in OpenMetrics); label values are tokenised,
/// honouring escapes, so a label value that merely contains `le="` is never touched, and an `le`
/// label of any other family keeps its value, as Go writes it. For OpenMetrics, a counter family
/// is named without its `_total` suffix in `# HELP` and `# TYPE`, its samples keep (or gain) the
/// suffix, and the body ends with `# EOF`. Empty lines are dropped.
///
/// Runs of input that need no change are copied in one piece, so a scrape costs little more
/// than a copy of the body: every scrape goes through here.
struct ExpositionRewriter {
  let format: ExpositionFormat

  private var openMetrics: Bool { self.format == .openMetrics }

  func rewrite(_ input: [UInt8]) -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(input.count + input.count / 16 + 8)
    input.withUnsafeBufferPointer { input in
      var pass = Pass(input: input, openMetrics: self.openMetrics)
      pass.run(into: &output)
    }
    if self.openMetrics {
      output.append(contentsOf: "# EOF\n".utf8)
    }
    return output
  }
}

/// One rewrite: where the input stands and what is held back.
private struct Pass {
  typealias Bytes = UnsafeBufferPointer<UInt8>

  let input: Bytes
  let openMetrics: Bool
  /// Input before this offset is in the output already; the bytes from here to the current line
  /// go out unchanged in one copy when something has to change.
  var copiedUpTo = 0
  /// The HELP line precedes TYPE, but in OpenMetrics its name depends on the type.
  var pendingHelp: (name: Range<Int>, text: Range<Int>)?
  var inCounterFamily = false
  var inHistogramFamily = false
  /// Go spellings of the `le` values seen so far, by value: a histogram repeats its bounds in
  /// every series. `nil` for a value to copy as it is (`+Inf`).
  var respelled: [UInt64: [UInt8]?] = [:]

  init(input: Bytes, openMetrics: Bool) {
    self.input = input
    self.openMetrics = openMetrics
  }

  mutating func run(into output: inout [UInt8]) {
    var lineStart = 0
    while lineStart < self.input.count {
      let lineEnd = self.newline(from: lineStart) ?? self.input.count
      if lineEnd == lineStart {
        self.replace(lineStart..<lineStart + 1, with: [], into: &output)  // An empty line.
      } else if self.input[lineStart] == UInt8(ascii: "#") {
        if self.openMetrics {
          self.rewriteComment(lineStart..<lineEnd, into: &output)
        } else if let type = self.metadata(lineStart..<lineEnd, keyword: Self.type) {
          self.enterFamily(ofType: type.text)
        }
      } else {
        if self.openMetrics {
          self.flushHelp(at: lineStart, into: &output)
        }
        self.rewriteSample(lineStart..<lineEnd, into: &output)
      }
      lineStart = lineEnd + 1
    }
    self.copy(upTo: self.input.count, into: &output)
    if let last = output.last, last != UInt8(ascii: "\n") {
      output.append(UInt8(ascii: "\n"))  // The input's last line had no newline.
    }
    if self.openMetrics {
      self.flushHelp(at: self.input.count, into: &output)
    }
  }

  // MARK: Samples

  /// Re-spells a bucket's `le` and, for an OpenMetrics counter, adds `_total`.
  private mutating func rewriteSample(_ line: Range<Int>, into output: inout [UInt8]) {
    var index = line.lowerBound
    while index < line.upperBound, self.input[index] != UInt8(ascii: "{"),
      self.input[index] != UInt8(ascii: " ")
    {
      index += 1
    }
    if self.openMetrics && self.inCounterFamily && !self.hasTotalSuffix(line.lowerBound..<index) {
      self.replace(index..<index, with: Self.totalSuffix, into: &output)
    }
    guard self.inHistogramFamily, self.hasSuffix(line.lowerBound..<index, Self.bucketSuffix),
      index < line.upperBound, self.input[index] == UInt8(ascii: "{")
    else { return }
    self.rewriteLabels(from: index + 1, lineEnd: line.upperBound, into: &output)
  }

  /// Walks `name="value",...}` from `index`, re-spelling each `le` value; stops at the closing
  /// brace or at text that is not a label set, which then stays as it is.
  private mutating func rewriteLabels(from start: Int, lineEnd: Int, into output: inout [UInt8]) {
    var index = start
    while index < lineEnd, self.input[index] != UInt8(ascii: "}") {
      let nameStart = index
      while index < lineEnd, self.input[index] != UInt8(ascii: "=") {
        index += 1
      }
      let isLe =
        index - nameStart == 2 && self.input[nameStart] == UInt8(ascii: "l")
        && self.input[nameStart + 1] == UInt8(ascii: "e")
      guard index + 1 < lineEnd, self.input[index + 1] == UInt8(ascii: "\"") else { return }
      index += 2
      let valueStart = index
      while index < lineEnd, self.input[index] != UInt8(ascii: "\"") {
        index += self.input[index] == UInt8(ascii: "\\") ? 2 : 1
      }
      guard index < lineEnd else { return }
      if isLe, let spelling = self.goSpelling(of: valueStart..<index) {
        self.replace(valueStart..<index, with: spelling, into: &output)
      }
      index += 1  // The closing quote.
      if index < lineEnd, self.input[index] == UInt8(ascii: ",") {
        index += 1
      }
    }
  }

  /// Go's spelling of the number in `value`, or nil to keep it.
  private mutating func goSpelling(of value: Range<Int>) -> [UInt8]? {
    let bytes = Bytes(rebasing: self.input[value])
    // Bounds are short ("0.005", "10.0"): up to 7 bytes and their count make a key.
    guard bytes.count <= 7 else {
      return GoFloatSpelling.respell(bytes, openMetrics: self.openMetrics)
    }
    var key = UInt64(bytes.count) << 56
    for (offset, byte) in bytes.enumerated() {
      key |= UInt64(byte) << (8 * offset)
    }
    if let known = self.respelled[key] { return known }
    let spelling = GoFloatSpelling.respell(bytes, openMetrics: self.openMetrics)
    self.respelled[key] = spelling
    return spelling
  }

  // MARK: OpenMetrics metadata

  /// Holds a HELP line back until its family's TYPE says how to name it; rewrites TYPE; drops
  /// other comments, which OpenMetrics does not allow.
  private mutating func rewriteComment(_ line: Range<Int>, into output: inout [UInt8]) {
    self.copy(upTo: line.lowerBound, into: &output)
    self.copiedUpTo = min(line.upperBound + 1, self.input.count)
    if let help = self.metadata(line, keyword: Self.help) {
      self.flushHelp(at: line.lowerBound, into: &output)
      self.pendingHelp = help
    } else if let type = self.metadata(line, keyword: Self.type) {
      self.enterFamily(ofType: type.text)
      let family =
        self.inCounterFamily && self.hasTotalSuffix(type.name)
        ? type.name.dropLast(Self.totalSuffix.count) : type.name
      if let help = self.pendingHelp, self.equals(help.name, type.name) {
        self.pendingHelp = (family, help.text)
      }
      self.flushHelp(at: line.lowerBound, into: &output)
      output.append(contentsOf: Self.type)
      output.append(contentsOf: Bytes(rebasing: self.input[family]))
      output.append(UInt8(ascii: " "))
      output.append(contentsOf: Bytes(rebasing: self.input[type.text]))
      output.append(UInt8(ascii: "\n"))
    }
  }

  /// Writes a held-back HELP line in OpenMetrics form, which also escapes double quotes. Input
  /// before `offset` goes out first.
  private mutating func flushHelp(at offset: Int, into output: inout [UInt8]) {
    guard let pending = self.pendingHelp.take() else { return }
    self.copy(upTo: offset, into: &output)
    output.append(contentsOf: Self.help)
    output.append(contentsOf: Bytes(rebasing: self.input[pending.name]))
    output.append(UInt8(ascii: " "))
    for byte in self.input[pending.text] {
      if byte == UInt8(ascii: "\"") {
        output.append(UInt8(ascii: "\\"))
      }
      output.append(byte)
    }
    output.append(UInt8(ascii: "\n"))
  }

  /// Notes the type a `# TYPE` line gives the samples that follow.
  private mutating func enterFamily(ofType type: Range<Int>) {
    self.inCounterFamily = self.equals(type, "counter")
    self.inHistogramFamily = self.equals(type, "histogram")
  }

  private static let help = Array("# HELP ".utf8)
  private static let type = Array("# TYPE ".utf8)
  private static let totalSuffix = Array("_total".utf8)
  private static let bucketSuffix = Array("_bucket".utf8)

  /// Splits `# KEYWORD name text` into its name and text.
  private func metadata(
    _ line: Range<Int>, keyword: [UInt8]
  ) -> (name: Range<Int>, text: Range<Int>)? {
    guard line.count >= keyword.count, self.equals(line.prefix(keyword.count), keyword) else {
      return nil
    }
    let rest = (line.lowerBound + keyword.count)..<line.upperBound
    guard let space = self.input[rest].firstIndex(of: UInt8(ascii: " ")) else {
      return (rest, rest.upperBound..<rest.upperBound)
    }
    return (rest.lowerBound..<space, (space + 1)..<rest.upperBound)
  }

  // MARK: Bytes

  private func hasTotalSuffix(_ name: Range<Int>) -> Bool {
    self.hasSuffix(name, Self.totalSuffix)
  }

  private func hasSuffix(_ name: Range<Int>, _ suffix: [UInt8]) -> Bool {
    name.count >= suffix.count && self.equals(name.suffix(suffix.count), suffix)
  }

  private func equals(_ range: Range<Int>, _ bytes: some Collection<UInt8>) -> Bool {
    self.input[range].elementsEqual(bytes)
  }

  private func equals(_ range: Range<Int>, _ text: StaticString) -> Bool {
    self.equals(range, UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
  }

  private func equals(_ range: Range<Int>, _ other: Range<Int>) -> Bool {
    self.equals(range, self.input[other])
  }

  /// The offset of the next `\n` at or after `start`.
  private func newline(from start: Int) -> Int? {
    let base = self.input.baseAddress! + start
    guard let found = memchr(base, Int32(UInt8(ascii: "\n")), self.input.count - start) else {
      return nil
    }
    return start + (UnsafeRawPointer(found) - UnsafeRawPointer(base))
  }

  /// Copies the unchanged input up to `offset`.
  private mutating func copy(upTo offset: Int, into output: inout [UInt8]) {
    guard offset > self.copiedUpTo else { return }
    output.append(contentsOf: Bytes(rebasing: self.input[self.copiedUpTo..<offset]))
    self.copiedUpTo = offset
  }

  /// Writes `replacement` where the input has `range`.
  private mutating func replace(
    _ range: Range<Int>, with replacement: [UInt8], into output: inout [UInt8]
  ) {
    self.copy(upTo: range.lowerBound, into: &output)
    output.append(contentsOf: replacement)
    self.copiedUpTo = range.upperBound
  }
}
