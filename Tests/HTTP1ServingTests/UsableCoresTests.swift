import Testing

@testable import HTTP1Serving

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The core count from the Linux files a container or service manager sets, laid out in a
/// folder of the test's own.
@Suite("UsableCores")
struct UsableCoresTests {
  /// A folder standing in for `/`, with `files` (path to contents) written below it; removed
  /// when the test lets go of it.
  private final class FakeRoot {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("usable-cores-\(UInt64.random(in: 0...UInt64.max))")
    var files: UsableCores.FileReader { UsableCores.FileReader(root: self.url.path) }

    init(_ files: [String: String]) throws {
      for (path, contents) in files {
        let file = self.url.appendingPathComponent(String(path.dropFirst()))
        try FileManager.default.createDirectory(
          at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: file)
      }
    }

    deinit {
      try? FileManager.default.removeItem(at: self.url)
    }
  }

  @Test("The affinity mask caps the system's count; the system's caps the mask")
  func affinity() throws {
    let root = try FakeRoot([
      "/proc/self/status": "Name:\tEchoServer\nCpus_allowed:\t4f\nCpus_allowed_list:\t0-3,6\n"
    ])
    #expect(UsableCores.count(systemCount: 8, files: root.files) == 5)
    #expect(UsableCores.count(systemCount: 2, files: root.files) == 2)
  }

  @Test("The tightest cgroup v2 quota on the way to the root counts, rounded up")
  func nestedQuotas() throws {
    let root = try FakeRoot([
      "/proc/self/cgroup": "0::/system.slice/echo.service\n",
      "/sys/fs/cgroup/cpu.max": "max 100000\n",
      "/sys/fs/cgroup/system.slice/cpu.max": "300000 100000\n",
      "/sys/fs/cgroup/system.slice/echo.service/cpu.max": "150000 100000\n",
    ])
    #expect(UsableCores.count(systemCount: 16, files: root.files) == 2)

    let parentTighter = try FakeRoot([
      "/proc/self/cgroup": "0::/kubepods/pod1/c1\n",
      "/sys/fs/cgroup/kubepods/pod1/cpu.max": "50000 100000\n",
      "/sys/fs/cgroup/kubepods/pod1/c1/cpu.max": "max 100000\n",
    ])
    #expect(UsableCores.count(systemCount: 16, files: parentTighter.files) == 1)
  }

  @Test("In a container's own cgroup namespace the root's quota is the container's")
  func containerRoot() throws {
    let root = try FakeRoot([
      "/proc/self/cgroup": "0::/\n",
      "/sys/fs/cgroup/cpu.max": "400000 100000\n",
      "/proc/self/status": "Cpus_allowed_list:\t0-7\n",
    ])
    #expect(UsableCores.count(systemCount: 8, files: root.files) == 4)
  }

  @Test("Without the files, or with ones it cannot read, the system's count stands")
  func fallbacks() throws {
    #expect(UsableCores.count(systemCount: 3, files: try FakeRoot([:]).files) == 3)
    let garbled = try FakeRoot([
      "/proc/self/status": "Cpus_allowed_list:\t3-1\n",
      "/proc/self/cgroup": "12:cpu:/legacy\n",
      "/sys/fs/cgroup/cpu.max": "a lot\n",
    ])
    #expect(UsableCores.count(systemCount: 3, files: garbled.files) == 3)
    #expect(UsableCores.count(systemCount: 0, files: garbled.files) == 1, "never fewer than one")
  }

  @Test("This process: at least one core, and no more than its affinity mask allows")
  func thisProcess() throws {
    let status = try #require(UsableCores.FileReader(root: "").read("/proc/self/status"))
    let allowed = try #require(UsableCores.allowedCPUs(status))
    #expect((1...allowed).contains(UsableCores.count))
  }
}
