import GRPCCore
import ProtoMessages
import ProtoStubs
import Synchronization
import TestSupport
import Testing

/// Draining: an RPC in flight when shutdown begins completes; new calls are refused after.
@Suite("Graceful shutdown", .timeLimit(.minutes(1)))
struct GracefulShutdownTests {
  @Test("an open bidi call keeps working through shutdown, finishes OK, and shutdown returns")
  func drainsOpenCall() async throws {
    let server = try await TestServer.start { $0.gracePeriod = .seconds(8) }
    let shutdown = ShutdownProbe(server)
    do {
      try await withEchoClient(server) { echo in
        let (replied, repliedContinuation) = AsyncStream.makeStream(of: String.self)
        let replies = try await echo.bidirectionalStreamingEcho(
          options: .test(timeout: .seconds(10))
        ) { writer in
          var iterator = replied.makeAsyncIterator()
          try await writer.write(Proto_Message("before"))
          _ = await iterator.next()
          shutdown.begin()
          // Draining has begun (health flips first), and the GOAWAY notice has had time to land.
          _ = try await eventually { server.server.health.status(of: "") == .notServing }
          try await Task.sleep(for: .milliseconds(200))
          try await writer.write(Proto_Message("during"))
          _ = await iterator.next()
        } onResponse: { response in
          var replies: [String] = []
          for try await reply in response.messages {
            replies.append(reply.message)
            repliedContinuation.yield(reply.message)
          }
          repliedContinuation.finish()
          return replies
        }
        #expect(replies == ["echo before", "echo during"])

        // Drained by the last RPC finishing, not by the grace period running out.
        let elapsed = try await withTimeout(.seconds(6), "shutdown") { await shutdown.wait() }
        #expect(elapsed < .seconds(6))

        let error = await #expect(throws: RPCError.self) {
          try await echo.echoService(Proto_Message("after"), options: .test(timeout: .seconds(3)))
        }
        #expect(error?.code == .unavailable)
      }
      let bidi = [
        "grpc_service": "proto.EchoService", "grpc_method": "BidirectionalStreamingEcho",
        "grpc_type": "bidi_stream",
      ]
      let metrics = try server.exposition()
      #expect(metrics.value("grpc_server_handled_total", bidi.adding(["grpc_code": "OK"])) == 1)
      #expect(metrics.value("grpc_server_msg_sent_total", bidi) == 2)
    } catch {
      await server.server.shutdown()
      throw error
    }
    await server.server.shutdown()
  }
}

/// Runs `shutdown()` in its own task and reports how long it took.
private final class ShutdownProbe: Sendable {
  private let server: TestServer
  private let task = Mutex<Task<Duration, Never>?>(nil)

  init(_ server: TestServer) {
    self.server = server
  }

  func begin() {
    let server = self.server
    self.task.withLock {
      $0 = Task { await ContinuousClock().measure { await server.server.shutdown() } }
    }
  }

  func wait() async -> Duration {
    guard let task = self.task.withLock({ $0 }) else { return .zero }
    return await task.value
  }
}
