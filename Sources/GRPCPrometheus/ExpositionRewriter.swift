/// Rewrites swift-prometheus output, line by line in one pass, into what a Go client writes for
/// the requested format.
///
/// In both formats the value of every `le` label is re-spelled as Go spells it (`le="1"` in the
/// text format, `le="1.0"` in OpenMetrics); label values are tokenised, honouring escapes, so a
/// label value that merely contains `le="` is never touched. For OpenMetrics, a counter family
/// is named without its `_total` suffix in `# HELP` and `# TYPE`, its samples keep (or gain) the
/// suffix, and the body ends with `# EOF`.
struct ExpositionRewriter {
  let format: ExpositionFormat

  private var openMetrics: Bool { self.format == .openMetrics }

  func rewrite(_ input: [UInt8]) -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(input.count + input.count / 16 + 8)
    // The HELP line precedes TYPE, but in OpenMetrics its name depends on the type.
    var pendingHelp: (name: ArraySlice<UInt8>, text: ArraySlice<UInt8>)?
    var inCounterFamily = false

    for line in input.split(separator: UInt8(ascii: "\n")) {
      if line.first == UInt8(ascii: "#") {
        guard self.openMetrics else {
          output.append(contentsOf: line)
          output.append(UInt8(ascii: "\n"))
          continue
        }
        if let help = Self.metadata(line, keyword: "HELP") {
          Self.flush(&pendingHelp, into: &output)
          pendingHelp = help
        } else if let type = Self.metadata(line, keyword: "TYPE") {
          inCounterFamily = type.text.elementsEqual("counter".utf8)
          let family = inCounterFamily ? Self.droppingTotalSuffix(type.name) : type.name
          if let help = pendingHelp, help.name.elementsEqual(type.name) {
            pendingHelp = (family, help.text)
          }
          Self.flush(&pendingHelp, into: &output)
          output.append(contentsOf: "# TYPE ".utf8)
          output.append(contentsOf: family)
          output.append(UInt8(ascii: " "))
          output.append(contentsOf: type.text)
          output.append(UInt8(ascii: "\n"))
        }
        // OpenMetrics allows no free-form comments, so any other comment line is dropped.
        continue
      }
      if self.openMetrics {
        Self.flush(&pendingHelp, into: &output)
      }
      self.rewriteSample(line, inCounterFamily: inCounterFamily, into: &output)
    }

    if self.openMetrics {
      Self.flush(&pendingHelp, into: &output)
      output.append(contentsOf: "# EOF\n".utf8)
    }
    return output
  }

  /// Copies a sample line, re-spelling `le` and, for an OpenMetrics counter, adding `_total`.
  private func rewriteSample(
    _ line: ArraySlice<UInt8>,
    inCounterFamily: Bool,
    into output: inout [UInt8]
  ) {
    var index = line.startIndex
    while index < line.endIndex, line[index] != UInt8(ascii: "{"), line[index] != UInt8(ascii: " ")
    {
      index += 1
    }
    let name = line[line.startIndex..<index]
    output.append(contentsOf: name)
    if self.openMetrics && inCounterFamily && !Self.hasTotalSuffix(name) {
      output.append(contentsOf: Self.totalSuffix)
    }
    if index < line.endIndex, line[index] == UInt8(ascii: "{") {
      output.append(UInt8(ascii: "{"))
      index += 1
      self.rewriteLabels(line, from: &index, into: &output)
    }
    output.append(contentsOf: line[index...])
    output.append(UInt8(ascii: "\n"))
  }

  /// Copies `name="value",...}` starting at `index`, leaving `index` after the closing brace.
  /// On text that is not a label set it stops with everything before `index` copied, so the
  /// caller copies the rest verbatim rather than guess.
  private func rewriteLabels(
    _ line: ArraySlice<UInt8>,
    from index: inout Int,
    into output: inout [UInt8]
  ) {
    while index < line.endIndex {
      if line[index] == UInt8(ascii: "}") {
        output.append(UInt8(ascii: "}"))
        index += 1
        return
      }
      let nameStart = index
      while index < line.endIndex, line[index] != UInt8(ascii: "=") {
        index += 1
      }
      let labelName = line[nameStart..<index]
      output.append(contentsOf: labelName)
      guard index + 1 < line.endIndex, line[index + 1] == UInt8(ascii: "\"") else { return }
      output.append(contentsOf: "=\"".utf8)
      index += 2

      let valueStart = index
      while index < line.endIndex, line[index] != UInt8(ascii: "\"") {
        index += line[index] == UInt8(ascii: "\\") ? 2 : 1
      }
      guard index < line.endIndex else {
        index = valueStart
        return
      }
      let value = line[valueStart..<index]
      if labelName.elementsEqual("le".utf8),
        let respelled = GoFloatSpelling.respell(value, openMetrics: self.openMetrics)
      {
        output.append(contentsOf: respelled)
      } else {
        output.append(contentsOf: value)
      }
      output.append(UInt8(ascii: "\""))
      index += 1
      if index < line.endIndex, line[index] == UInt8(ascii: ",") {
        output.append(UInt8(ascii: ","))
        index += 1
      }
    }
  }

  private static let totalSuffix = Array("_total".utf8)

  private static func hasTotalSuffix(_ name: ArraySlice<UInt8>) -> Bool {
    name.count >= Self.totalSuffix.count
      && name.suffix(Self.totalSuffix.count).elementsEqual(Self.totalSuffix)
  }

  private static func droppingTotalSuffix(_ name: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    Self.hasTotalSuffix(name) ? name.dropLast(Self.totalSuffix.count) : name
  }

  /// Splits `# KEYWORD name text` into its name and text.
  private static func metadata(
    _ line: ArraySlice<UInt8>,
    keyword: String
  ) -> (name: ArraySlice<UInt8>, text: ArraySlice<UInt8>)? {
    let prefix = Array("# \(keyword) ".utf8)
    guard line.starts(with: prefix) else { return nil }
    let rest = line.dropFirst(prefix.count)
    guard let space = rest.firstIndex(of: UInt8(ascii: " ")) else {
      return (rest, rest[rest.endIndex...])
    }
    return (rest[..<space], rest[(space + 1)...])
  }

  /// Writes a held-back HELP line in OpenMetrics form, which also escapes double quotes.
  private static func flush(
    _ help: inout (name: ArraySlice<UInt8>, text: ArraySlice<UInt8>)?,
    into output: inout [UInt8]
  ) {
    guard let pending = help else { return }
    help = nil
    output.append(contentsOf: "# HELP ".utf8)
    output.append(contentsOf: pending.name)
    output.append(UInt8(ascii: " "))
    for byte in pending.text {
      if byte == UInt8(ascii: "\"") {
        output.append(UInt8(ascii: "\\"))
      }
      output.append(byte)
    }
    output.append(UInt8(ascii: "\n"))
  }
}
