/// A Prometheus text exposition (format 0.0.4) parsed into series and values, so tests assert
/// exact numbers without depending on family or label order.
///
/// Series keys are normalized: `name{a="1",b="2"}` with labels sorted by name (just `name` when
/// there are none), label values escaped as the format escapes them.
public struct ParsedExposition: Sendable {
  /// One sample line.
  public struct Sample: Sendable, Equatable {
    /// The sample's metric name (`grpc_server_handled_total`, `..._bucket`, ...).
    public var name: String
    /// Its labels, unescaped.
    public var labels: [String: String]
    /// Its value.
    public var value: Double
  }

  /// Every sample, keyed by its normalized series.
  public private(set) var samples: [String: Sample] = [:]
  /// `# TYPE` of each family.
  public private(set) var types: [String: String] = [:]
  /// `# HELP` of each family.
  public private(set) var helps: [String: String] = [:]

  /// Parses exposition text; throws on a malformed or duplicated sample line.
  public init(_ text: String) throws {
    for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
      if line.hasPrefix("# TYPE ") || line.hasPrefix("# HELP ") {
        let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1)
        let family = String(parts[0])
        let rest = parts.count > 1 ? String(parts[1]) : ""
        if line.hasPrefix("# TYPE ") {
          self.types[family] = rest
        } else {
          self.helps[family] = rest
        }
        continue
      }
      if line.hasPrefix("#") { continue }
      let sample = try Self.parseSample(line)
      let key = Self.key(sample.name, sample.labels)
      guard self.samples[key] == nil else {
        throw ExpositionParseError(line: String(line), reason: "duplicate series \(key)")
      }
      self.samples[key] = sample
    }
  }

  /// The normalized key of a series.
  public static func key(_ name: String, _ labels: [String: String] = [:]) -> String {
    guard !labels.isEmpty else { return name }
    let rendered = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(escape($0.value))\"" }
    return name + "{" + rendered.joined(separator: ",") + "}"
  }

  /// The value of one series; `nil` when the exposition lacks it.
  public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
    self.samples[Self.key(name, labels)]?.value
  }

  /// Every sample with this metric name.
  public func samples(named name: String) -> [Sample] {
    self.samples.values.filter { $0.name == name }
  }

  private static func escape(_ value: String) -> String {
    var escaped = ""
    for character in value {
      switch character {
      case "\\": escaped += "\\\\"
      case "\"": escaped += "\\\""
      case "\n": escaped += "\\n"
      default: escaped.append(character)
      }
    }
    return escaped
  }

  private static func parseSample(_ line: Substring) throws -> Sample {
    let fail = { (reason: String) in ExpositionParseError(line: String(line), reason: reason) }
    guard let nameEnd = line.firstIndex(where: { $0 == "{" || $0 == " " }) else {
      throw fail("no value")
    }
    let name = String(line[..<nameEnd])
    var labels: [String: String] = [:]
    var index = nameEnd
    if line[index] == "{" {
      index = line.index(after: index)
      while index < line.endIndex, line[index] != "}" {
        guard let equals = line[index...].firstIndex(of: "=") else { throw fail("label") }
        let labelName = String(line[index..<equals])
        index = line.index(after: equals)
        guard index < line.endIndex, line[index] == "\"" else { throw fail("unquoted value") }
        index = line.index(after: index)
        var value = ""
        while index < line.endIndex, line[index] != "\"" {
          if line[index] == "\\" {
            index = line.index(after: index)
            guard index < line.endIndex else { throw fail("dangling escape") }
            value.append(line[index] == "n" ? "\n" : line[index])
          } else {
            value.append(line[index])
          }
          index = line.index(after: index)
        }
        guard index < line.endIndex else { throw fail("unterminated value") }
        index = line.index(after: index)
        labels[labelName] = value
        if index < line.endIndex, line[index] == "," { index = line.index(after: index) }
      }
      guard index < line.endIndex else { throw fail("unterminated labels") }
      index = line.index(after: index)
    }
    let fields = line[index...].split(separator: " ")
    guard let text = fields.first, let value = Double(text) ?? Self.special(text) else {
      throw fail("bad value")
    }
    return Sample(name: name, labels: labels, value: value)
  }

  private static func special(_ text: Substring) -> Double? {
    switch text {
    case "+Inf": .infinity
    case "-Inf": -.infinity
    case "NaN": .nan
    default: nil
    }
  }
}

/// A line of exposition text that could not be read.
public struct ExpositionParseError: Error, CustomStringConvertible {
  /// The line.
  public var line: String
  /// What was wrong with it.
  public var reason: String
  /// Both.
  public var description: String { "\(self.reason): \(self.line)" }
}
