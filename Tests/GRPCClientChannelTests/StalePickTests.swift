import GRPCPrometheus
import GRPCWire
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TestSupport
import Testing

@testable import GRPCClientChannel

/// The calls a subchannel handed back to its channel.
private final class Rerouted: Sendable {
  private let calls = Mutex<[(peer: String, status: GRPCStatus)]>([])
  var all: [(peer: String, status: GRPCStatus)] { self.calls.withLock { $0 } }
  func add(_ peer: String, _ status: GRPCStatus) {
    self.calls.withLock { $0.append((peer, status)) }
  }
}

@Suite("A call picked just before its address failed", .timeLimit(.minutes(1)))
struct StalePickTests {
  /// The picker reads a subchannel's connectivity on the caller's thread and the call starts on
  /// the event loop a moment later; a connection attempt that fails in between used to end the
  /// call UNAVAILABLE although another address could take it (seen once under load, when one
  /// of two replicas drained).
  @Test("goes back to the channel instead of failing")
  func rerouted() async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let eventLoop = group.next()
    // A port nothing listens on: bound, then closed.
    let closed = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
    let address = try #require(closed.localAddress)
    try await closed.close()

    let rerouted = Rerouted()
    let subchannel = GRPCSubchannel(
      address: address, eventLoop: eventLoop,
      configuration: GRPCChannelConfiguration(host: "127.0.0.1", port: address.port ?? 0),
      logger: Logger(label: "test"), reconnectDue: {},
      reroute: { call, peer, status in
        rerouted.add(peer, status)
        call.finish(status, message: nil, peer: nil)
      })
    try await eventLoop.submit { subchannel.connectIfIdle() }.get()
    #expect(try await eventually { subchannel.connectivity == .unavailable })

    let method = GRPCClientMethod(
      method: EchoRequests.method, authority: "127.0.0.1", observers: [])
    let result = try await eventLoop.flatSubmit {
      let promise = eventLoop.makePromise(of: GRPCUnaryResult.self)
      let call = ClientCall(
        method: method, request: EchoRequests.request("late"), timeout: .seconds(5),
        maxResponseSize: 1024, startTime: .now, eventLoop: eventLoop,
        onFinish: { promise.succeed($0) })
      subchannel.start(call)
      return promise.futureResult
    }.get()
    #expect(result.status.code == .unavailable)
    let handedBack = rerouted.all
    #expect(handedBack.count == 1)
    #expect(handedBack.first?.peer == "127.0.0.1:\(address.port ?? 0)")
    try await eventLoop.submit { subchannel.shutdown() }.get()
    try await group.shutdownGracefully()
  }
}
