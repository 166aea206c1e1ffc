/// One reading of the process figures Go's process collector exports, parsed from procfs text.
///
/// Parsing is separate from reading so tests can drive it with fixed `/proc` contents.
struct ProcessSample: Equatable {
  /// User plus system CPU time, in seconds.
  var cpuSeconds: Double
  /// Virtual memory size, in bytes.
  var virtualMemoryBytes: Double
  /// Resident set size, in bytes.
  var residentMemoryBytes: Double
  /// Start time since the Unix epoch, in seconds.
  var startTimeSeconds: Double

  /// Parses `/proc/self/stat`, given the clock ticks per second, the page size and the boot time
  /// (`btime` of `/proc/stat`).
  ///
  /// The command name (field 2) may contain spaces and parentheses, so fields are counted from
  /// the last `)`, as procfs readers do.
  init?(stat: String, ticksPerSecond: Double, pageSize: Double, bootTime: Double) {
    // Bytes, not Characters: splitting the String cost more than the rest of a scrape's sample.
    let bytes = stat.utf8
    guard let nameEnd = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
    // After ")" come fields 3 (state) onwards; field N is at offset N - 3. Splitting stops
    // past field 24, the last one read.
    let fields = bytes[bytes.index(after: nameEnd)...].split(
      separator: UInt8(ascii: " "), maxSplits: 23)
    func field(_ number: Int) -> Int? {
      let offset = number - 3
      return offset < fields.count ? Self.integer(fields[offset]) : nil
    }
    guard let utime = field(14), let stime = field(15), let startTicks = field(22),
      let vsize = field(23), let rssPages = field(24)
    else { return nil }
    self.cpuSeconds = Double(utime + stime) / ticksPerSecond
    self.virtualMemoryBytes = Double(vsize)
    self.residentMemoryBytes = Double(rssPages) * pageSize
    self.startTimeSeconds = bootTime + Double(startTicks) / ticksPerSecond
  }

  /// A non-negative decimal integer, or nil.
  private static func integer(_ digits: Substring.UTF8View) -> Int? {
    guard !digits.isEmpty else { return nil }
    var value = 0
    for digit in digits {
      guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { return nil }
      value = value &* 10 &+ Int(digit &- UInt8(ascii: "0"))
    }
    return value
  }

  /// The `btime` line of `/proc/stat`: the boot time in seconds since the Unix epoch.
  static func bootTime(procStat: String) -> Double? {
    for line in procStat.split(separator: "\n") where line.hasPrefix("btime ") {
      return Double(line.dropFirst("btime ".count))
    }
    return nil
  }
}
