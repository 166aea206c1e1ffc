/// A minimal, independent reading of an exposition: families (TYPE, HELP) and samples keyed
/// by their rendered series (`name{labels}`), so tests compare content, not family order.
struct ParsedExposition {
  var types: [String: String] = [:]
  var helps: [String: String] = [:]
  var samples: [String: Double] = [:]
  var sampleLines: [String] = []

  init(_ text: String) {
    for line in text.split(separator: "\n").map(String.init) {
      if line.hasPrefix("# TYPE ") {
        let parts = line.dropFirst("# TYPE ".count).split(separator: " ", maxSplits: 1)
        self.types[String(parts[0])] = String(parts[1])
      } else if line.hasPrefix("# HELP ") {
        let parts = line.dropFirst("# HELP ".count).split(separator: " ", maxSplits: 1)
        self.helps[String(parts[0])] = String(parts[1])
      } else if !line.hasPrefix("#") {
        let space = line.lastIndex(of: " ")!
        let series = String(line[..<space])
        precondition(self.samples[series] == nil, "duplicate series \(series)")
        self.samples[series] = Double(line[line.index(after: space)...])!
        self.sampleLines.append(line)
      }
    }
  }

  init(_ bytes: [UInt8]) {
    self.init(String(decoding: bytes, as: UTF8.self))
  }

  /// The series whose names start with `prefix`, for comparing one area of the exposition.
  func samples(prefix: String) -> [String: Double] {
    self.samples.filter { $0.key.hasPrefix(prefix) }
  }
}
