import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How many cores this process may keep busy: the default number of event-loop threads.
///
/// The smallest of three limits, as a container or a service manager sets them: the CPU affinity
/// mask (`taskset`, `docker run --cpuset-cpus`), the CPU quota of every cgroup v2 the process is
/// in, from its own up to the root (`docker run --cpus`, systemd's `CPUQuota=`; a fractional
/// quota rounds up), and what NIO's `System.coreCount` reads (cgroup v1 quotas and cpusets).
package enum UsableCores {
  /// The cores this process may use; at least 1.
  package static var count: Int {
    self.count(systemCount: System.coreCount, files: FileReader(root: ""))
  }

  /// The count from `systemCount` and the Linux files `files` reads (a test points them at a
  /// folder of its own).
  package static func count(systemCount: Int, files: FileReader) -> Int {
    var limit = systemCount
    if let status = files.read("/proc/self/status"), let allowed = self.allowedCPUs(status) {
      limit = min(limit, allowed)
    }
    if let cgroups = files.read("/proc/self/cgroup"),
      let quota = self.cgroupQuota(cgroups, files: files)
    {
      limit = min(limit, quota)
    }
    return max(1, limit)
  }

  /// The number of CPUs in the `Cpus_allowed_list:` line of `/proc/self/status` ("0-3,6").
  static func allowedCPUs(_ status: String) -> Int? {
    guard
      let line = status.split(separator: "\n").first(where: {
        $0.hasPrefix("Cpus_allowed_list:")
      })
    else { return nil }
    var total = 0
    for range in line.dropFirst("Cpus_allowed_list:".count).split(separator: ",") {
      let bounds = range.split(separator: "-").map {
        Int($0.filter { !$0.isWhitespace })
      }
      switch bounds.count {
      case 1:
        guard bounds[0] != nil else { return nil }
        total += 1
      case 2:
        guard let first = bounds[0], let last = bounds[1], last >= first else { return nil }
        total += last - first + 1
      default:
        return nil
      }
    }
    return total > 0 ? total : nil
  }

  /// The tightest cgroup v2 CPU quota on the path from the process's cgroup (the `0::` line of
  /// `/proc/self/cgroup`) up to the root, in whole cores; nil when none is set.
  static func cgroupQuota(_ cgroups: String, files: FileReader) -> Int? {
    guard let line = cgroups.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) else {
      return nil
    }
    var path = line.dropFirst(3).split(separator: "/").map(String.init)
    var tightest: Int?
    while true {
      let folder = "/sys/fs/cgroup" + path.map { "/" + $0 }.joined()
      if let cpuMax = files.read(folder + "/cpu.max"), let cores = self.quotaCores(cpuMax) {
        tightest = min(tightest ?? cores, cores)
      }
      guard !path.isEmpty else { return tightest }
      path.removeLast()
    }
  }

  /// Whole cores in a `cpu.max` line ("150000 100000" is 2; "max 100000" is no limit).
  static func quotaCores(_ cpuMax: String) -> Int? {
    let fields = cpuMax.split(whereSeparator: \.isWhitespace)
    guard fields.count == 2, let quota = Int(fields[0]), let period = Int(fields[1]),
      quota > 0, period > 0
    else { return nil }
    return (quota + period - 1) / period
  }

  /// Reads small text files below `root`.
  package struct FileReader: Sendable {
    /// Prepended to every path: empty for the real files.
    package var root: String

    package init(root: String) {
      self.root = root
    }

    /// The file's first 64 KiB as text (these files are far smaller), or nil when it cannot
    /// be opened.
    func read(_ path: String) -> String? {
      guard let file = fopen(self.root + path, "r") else { return nil }
      defer { fclose(file) }
      let bytes = [UInt8](unsafeUninitializedCapacity: 65_536) { buffer, count in
        count = fread(buffer.baseAddress, 1, buffer.count, file)
      }
      return String(decoding: bytes, as: UTF8.self)
    }
  }
}
