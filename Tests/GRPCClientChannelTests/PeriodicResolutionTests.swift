import GRPCPrometheus
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TestSupport
import Testing

@testable import GRPCClientChannel

/// A name whose addresses the test changes, as DNS does when replicas are scaled.
private final class ChangingName: Sendable {
  private let addresses: Mutex<[SocketAddress]>

  init(_ addresses: [SocketAddress]) {
    self.addresses = Mutex(addresses)
  }

  func set(_ addresses: [SocketAddress]) {
    self.addresses.withLock { $0 = addresses }
  }

  func resolve(
    _: [GRPCChannelConfiguration.Target], on eventLoop: any EventLoop
  )
    -> EventLoopFuture<[SocketAddress]>
  {
    eventLoop.makeSucceededFuture(self.addresses.withLock { $0 })
  }
}

@Suite("Names are resolved again periodically", .timeLimit(.minutes(1)))
struct PeriodicResolutionTests {
  @Test("a replica that joins gets calls, and one that leaves is let go, without a reconnect")
  func replicasJoinAndLeave() async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    try await TestServer.with { a in
      try await TestServer.with { b in
        let addressA = try SocketAddress(ipAddress: "127.0.0.1", port: a.port)
        let addressB = try SocketAddress(ipAddress: "127.0.0.1", port: b.port)
        let name = ChangingName([addressA])
        var configuration = GRPCChannelConfiguration(host: "echo.test", port: 8080)
        configuration.resolveInterval = .milliseconds(50)
        let channel = GRPCChannel(
          configuration: configuration, group: group, interceptors: [],
          logger: Logger(label: "test"), resolve: name.resolve)
        await channel.start()
        let method = channel.method(EchoRequests.method)
        #expect(channel.addresses == [addressA])

        name.set([addressA, addressB])
        #expect(try await eventually { channel.addresses == [addressA, addressB] })
        var peers: Set<String> = []
        for _ in 0..<20 {
          let result = try await channel.unary(method, request: EchoRequests.request("scale"))
            .result.get()
          #expect(result.status.code == .ok, "\(result.status)")
          peers.insert(result.peer ?? "?")
        }
        #expect(peers == ["127.0.0.1:\(a.port)", "127.0.0.1:\(b.port)"])

        name.set([addressB])
        #expect(try await eventually { channel.addresses == [addressB] })
        for _ in 0..<5 {
          let result = try await channel.unary(method, request: EchoRequests.request("scale"))
            .result.get()
          #expect(result.peer == "127.0.0.1:\(b.port)")
        }
        await channel.shutdown()
      }
    }
    try await group.shutdownGracefully()
  }

  @Test("without an interval a name is not resolved again while its connection holds")
  func noInterval() async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    try await TestServer.with { server in
      let address = try SocketAddress(ipAddress: "127.0.0.1", port: server.port)
      let name = ChangingName([address])
      var configuration = GRPCChannelConfiguration(host: "echo.test", port: 8080)
      configuration.resolveInterval = nil
      let channel = GRPCChannel(
        configuration: configuration, group: group, interceptors: [],
        logger: Logger(label: "test"), resolve: name.resolve)
      await channel.start()
      let result = try await channel.unary(
        channel.method(EchoRequests.method), request: EchoRequests.request("scale")
      )
      .result.get()
      #expect(result.status.code == .ok)
      name.set([try SocketAddress(ipAddress: "127.0.0.1", port: 1)])
      try await Task.sleep(for: .milliseconds(200))
      #expect(channel.addresses == [address])
      await channel.shutdown()
    }
    try await group.shutdownGracefully()
  }
}
