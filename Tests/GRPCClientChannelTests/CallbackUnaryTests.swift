import GRPCPrometheus
import GRPCWire
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TestSupport
import Testing

@testable import GRPCClientChannel

/// What a callback saw: each result, and whether it ran on the caller's event loop.
private final class Delivered: Sendable {
  private let results = Mutex<[(code: GRPCStatus.Code, onCallerLoop: Bool)]>([])
  var all: [(code: GRPCStatus.Code, onCallerLoop: Bool)] { self.results.withLock { $0 } }
  func add(_ code: GRPCStatus.Code, onCallerLoop: Bool) {
    self.results.withLock { $0.append((code, onCallerLoop)) }
  }
}

@Suite("A unary call's result handed to a callback", .timeLimit(.minutes(1)))
struct CallbackUnaryTests {
  /// Makes `count` calls from `caller` and waits until each has delivered.
  private static func call(
    _ channel: GRPCChannel, count: Int, from caller: any EventLoop
  ) async throws -> [(code: GRPCStatus.Code, onCallerLoop: Bool)] {
    let method = channel.method(EchoRequests.method)
    let delivered = Delivered()
    try await caller.submit {
      for _ in 0..<count {
        _ = channel.unary(method, request: EchoRequests.request("callback"), on: caller) {
          delivered.add($0.status.code, onCallerLoop: caller.inEventLoop)
        }
      }
    }.get()
    #expect(try await eventually(within: .seconds(20)) { delivered.all.count >= count })
    return delivered.all
  }

  @Test("once per call, on the caller's event loop: the channel's own or another")
  func deliveredOnCallerLoop() async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let otherGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    try await TestServer.with { server in
      let channel = GRPCChannel(
        configuration: GRPCChannelConfiguration(host: "127.0.0.1", port: server.port),
        group: group, interceptors: [], logger: Logger(label: "test"))
      await channel.start()
      for caller in [group.next(), otherGroup.next()] {
        let delivered = try await Self.call(channel, count: 5, from: caller)
        #expect(delivered.count == 5)
        #expect(delivered.allSatisfy { $0.code == .ok && $0.onCallerLoop })
      }
      await channel.shutdown()
    }
    try await otherGroup.shutdownGracefully()
    try await group.shutdownGracefully()
  }

  @Test("no connection: UNAVAILABLE, after the call was handed back, on the caller's loop")
  func unavailable() async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let closed = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
    let port = try #require(closed.localAddress?.port)
    try await closed.close()
    let channel = GRPCChannel(
      configuration: GRPCChannelConfiguration(host: "127.0.0.1", port: port),
      group: group, interceptors: [], logger: Logger(label: "test"))
    await channel.start()
    let caller = group.next()
    let method = channel.method(EchoRequests.method)
    let delivered = Delivered()
    let deliveredBeforeReturn = try await caller.submit {
      _ = channel.unary(method, request: EchoRequests.request("nowhere"), on: caller) {
        delivered.add($0.status.code, onCallerLoop: caller.inEventLoop)
      }
      return !delivered.all.isEmpty
    }.get()
    #expect(!deliveredBeforeReturn)
    #expect(try await eventually(within: .seconds(20)) { delivered.all.count == 1 })
    #expect(delivered.all.first?.code == .unavailable)
    #expect(delivered.all.first?.onCallerLoop == true)
    await channel.shutdown()
    try await group.shutdownGracefully()
  }
}
