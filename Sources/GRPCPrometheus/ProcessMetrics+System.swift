#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ProcessMetrics {
  enum Limit {
    case openFiles
    case addressSpace
  }

  /// The soft limit as Go reports it: procfs parses `unlimited` as the largest `uint64`, so an
  /// unlimited address space shows as 1.8446744073709552e+19 (not -1). Linux's `RLIM_INFINITY`
  /// is that same all-ones value, so the raw limit converts to Go's number unchanged.
  static func softLimit(of limit: Limit) -> Double {
    var value = rlimit()
    #if os(Linux)
    let resource = limit == .openFiles ? RLIMIT_NOFILE : RLIMIT_AS
    let status = getrlimit(__rlimit_resource_t(resource.rawValue), &value)
    #else
    let status = getrlimit(limit == .openFiles ? RLIMIT_NOFILE : RLIMIT_AS, &value)
    #endif
    guard status == 0 else { return 0 }
    return Double(value.rlim_cur)
  }

  /// The machine's boot time from `/proc/stat`.
  static func readBootTime() -> Double? {
    Self.readFile("/proc/stat").flatMap(ProcessSample.bootTime(procStat:))
  }

  static func readSample(bootTime: Double) -> ProcessSample? {
    guard let stat = Self.readFile("/proc/self/stat") else { return nil }
    return ProcessSample(
      stat: stat,
      ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))),
      pageSize: Double(sysconf(Int32(_SC_PAGESIZE))),
      bootTime: bootTime
    )
  }

  /// The entries of `/proc/self/fd`, as Go's procfs counts them.
  static func countOpenFileDescriptors() -> Int? {
    guard let directory = opendir("/proc/self/fd") else { return nil }
    defer { closedir(directory) }
    var count = 0
    while let entry = readdir(directory) {
      let isDotEntry = withUnsafeBytes(of: entry.pointee.d_name) { name in
        name[0] == UInt8(ascii: ".")
      }
      if !isDotEntry {
        count += 1
      }
    }
    // Opening the directory took a descriptor that is gone once this returns.
    return count - 1
  }

  /// The whole file, read with plain `read(2)`: procfs files report size 0, so the length is
  /// unknown until end of file.
  static func readFile(_ path: String) -> String? {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      guard count >= 0 else { return nil }
      if count == 0 { break }
      bytes.append(contentsOf: chunk[..<count])
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
