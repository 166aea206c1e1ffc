import GRPCClientChannel
import GRPCPrometheus
import GRPCWire
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TestSupport
import Testing

/// Set once the draining server has finished shutting down.
private final class DrainedFlag: Sendable {
  private let flag = Atomic(false)
  var isSet: Bool { self.flag.load(ordering: .relaxed) }
  func set() { self.flag.store(true, ordering: .relaxed) }
}

@Suite("A replica that drains loses no calls", .timeLimit(.minutes(1)))
struct DrainFailoverTests {
  @Test("calls keep succeeding while one of two servers shuts down gracefully")
  func rollingRestart() async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let leaving = try await TestServer.start()
    try await TestServer.with { staying in
      var configuration = GRPCChannelConfiguration(host: "127.0.0.1", port: leaving.port)
      configuration.targets.append(.init(host: "127.0.0.1", port: staying.port))
      let channel = GRPCChannel(
        configuration: configuration, group: group, interceptors: [],
        logger: Logger(label: "test"))
      await channel.start()
      let method = channel.method(EchoRequests.method)
      let drained = DrainedFlag()

      // Eight callers, each with one call in flight at a time, until a while after the drain.
      let failures = try await withThrowingTaskGroup(of: [String].self) { callers in
        for _ in 0..<8 {
          callers.addTask {
            var failures: [String] = []
            var callsAfterDrain = 0
            while callsAfterDrain < 50 {
              let result = try await channel.unary(method, request: EchoRequests.request("drain"))
                .result.get()
              if result.status.code != .ok { failures.append("\(result.status)") }
              if drained.isSet { callsAfterDrain += 1 }
            }
            return failures
          }
        }
        try await Task.sleep(for: .milliseconds(100))
        await leaving.server.shutdown()
        drained.set()
        return try await callers.reduce(into: []) { $0 += $1 }
      }
      #expect(failures.isEmpty, "\(failures.count) calls failed: \(Set(failures))")
      await channel.shutdown()
    }
    try await group.shutdownGracefully()
  }
}
