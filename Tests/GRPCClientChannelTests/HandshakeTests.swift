import GRPCWire
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TestSupport
import Testing

@testable import GRPCClientChannel

/// A TCP server that is not an HTTP/2 server: it accepts, counts connections, and either stays
/// silent or answers with an HTTP/1.1 error and closes.
private final class NotHTTP2Server: Sendable {
  enum Behaviour: Sendable {
    case silent
    case garbage
  }

  private final class Handler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let behaviour: Behaviour
    init(behaviour: Behaviour) { self.behaviour = behaviour }

    func channelActive(context: ChannelHandlerContext) {
      guard case .garbage = self.behaviour else { return }
      let answer = ByteBuffer(string: "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
      let channel = context.channel
      context.writeAndFlush(self.wrapOutboundOut(answer)).whenComplete { _ in
        channel.close(promise: nil)
      }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
  }

  private final class Counter: Sendable {
    let value = Atomic<Int>(0)
  }

  let listener: any Channel
  private let accepted = Counter()

  var acceptedCount: Int { self.accepted.value.load(ordering: .relaxed) }

  init(_ behaviour: Behaviour, group: any EventLoopGroup) async throws {
    let accepted = self.accepted
    self.listener = try await ServerBootstrap(group: group)
      .childChannelInitializer { channel in
        accepted.value.wrappingAdd(1, ordering: .relaxed)
        return channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(Handler(behaviour: behaviour))
        }
      }
      .bind(host: "127.0.0.1", port: 0).get()
  }
}

private final class SubchannelReference: Sendable {
  let value = Mutex<GRPCSubchannel?>(nil)
}

/// The subchannel under test, reconnecting by itself as its channel would make it.
private final class Reconnecting: Sendable {
  let subchannel: GRPCSubchannel

  init(to address: SocketAddress, eventLoop: any EventLoop, connectTimeout: Duration) {
    var configuration = GRPCChannelConfiguration(host: "127.0.0.1", port: address.port ?? 0)
    configuration.connectTimeout = connectTimeout
    configuration.backoff = ReconnectBackoff(
      initial: .milliseconds(50), multiplier: 2, maximum: .seconds(1), jitter: 0.2)
    let reference = SubchannelReference()
    self.subchannel = GRPCSubchannel(
      address: address, eventLoop: eventLoop, configuration: configuration,
      logger: Logger(label: "test"),
      reconnectDue: { eventLoop.execute { reference.value.withLock { $0 }?.connectIfIdle() } },
      reroute: { call, _, status in call.finish(status, message: nil, peer: nil) })
    reference.value.withLock { $0 = self.subchannel }
  }

  /// One call's outcome.
  func call() async throws -> GRPCUnaryResult {
    let eventLoop = self.subchannel.eventLoop
    return try await eventLoop.flatSubmit {
      let promise = eventLoop.makePromise(of: GRPCUnaryResult.self)
      let method = GRPCClientMethod(
        method: EchoRequests.method, authority: "127.0.0.1", observers: [])
      let call = ClientCall(
        method: method, request: EchoRequests.request("hi"), timeout: .seconds(10),
        maxResponseSize: 1024, startTime: .now, eventLoop: eventLoop,
        onFinish: { promise.succeed($0) })
      self.subchannel.start(call)
      return promise.futureResult
    }.get()
  }

  func shutdown() async throws {
    try await self.subchannel.eventLoop.submit { self.subchannel.shutdown() }.get()
  }
}

@Suite("A connection is ready only once the server's SETTINGS arrive", .timeLimit(.minutes(1)))
struct HandshakeTests {
  @Test("a server that accepts and says nothing fails the attempt at the connect timeout")
  func silentServer() async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let server = try await NotHTTP2Server(.silent, group: group)
    let address = try #require(server.listener.localAddress)
    let client = Reconnecting(
      to: address, eventLoop: group.next(), connectTimeout: .milliseconds(200))

    let result = try await client.call()
    #expect(result.status.code == .unavailable)
    #expect(result.status.message.contains("sent no HTTP/2 SETTINGS within"), "\(result.status)")
    #expect(result.elapsed >= .milliseconds(200))
    #expect(client.subchannel.connectivity != .ready)

    try await client.shutdown()
    try await server.listener.close()
    try await group.shutdownGracefully()
  }

  /// Connecting used to count as success, which reset the backoff: a server answering HTTP/1.1
  /// was dialled again every 50 ms here (every 100 ms with the defaults).
  @Test("a server that answers something else is redialled with a growing backoff")
  func garbageServer() async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let server = try await NotHTTP2Server(.garbage, group: group)
    let address = try #require(server.listener.localAddress)
    let client = Reconnecting(to: address, eventLoop: group.next(), connectTimeout: .seconds(1))

    let result = try await client.call()
    #expect(result.status.code == .unavailable)
    #expect(
      result.status.message.contains("closed before the server's HTTP/2 SETTINGS"),
      "\(result.status)")
    #expect(
      client.subchannel.lastFailure?.contains("closed before the server's HTTP/2 SETTINGS") == true,
      "what calls during the backoff are told")
    try await Task.sleep(for: .seconds(2))
    // 50, 100, 200, 400, 800 ms (±20 %) between attempts: about six in two seconds.
    let attempts = server.acceptedCount
    #expect((2...9).contains(attempts), "\(attempts) connections in about 2 s")

    try await client.shutdown()
    try await server.listener.close()
    try await group.shutdownGracefully()
  }
}
