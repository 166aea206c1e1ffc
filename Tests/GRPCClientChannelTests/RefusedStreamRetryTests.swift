import GRPCClientChannel
import GRPCPrometheus
import GRPCWire
import Logging
import NGHTTP2
import NIOCore
import NIOPosix
import Prometheus
import Synchronization
import TestSupport
import Testing

/// How many streams a refusing server has refused.
private final class RefusalCount: Sendable {
  private let count = Atomic(0)
  var value: Int { self.count.load(ordering: .relaxed) }
  func increment() { self.count.add(1, ordering: .relaxed) }
}

/// A server that refuses every stream with RST_STREAM REFUSED_STREAM, as an overloaded or
/// draining server may: the client learns that nothing was processed.
private final class RefusingHandler: ChannelInboundHandler, NGHTTP2SessionDelegate {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  private let refused: RefusalCount
  private let session = NGHTTP2Session(role: .server)
  private var output = NGHTTP2OutputBuffer(allocator: ByteBufferAllocator())

  init(refused: RefusalCount) {
    self.refused = refused
  }

  func handlerAdded(context: ChannelHandlerContext) {
    self.session.delegate = self
    self.flush(context)
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    do {
      try self.session.receive(self.unwrapInboundIn(data))
    } catch {
      context.close(promise: nil)
    }
    self.flush(context)
  }

  private func flush(_ context: ChannelHandlerContext) {
    if let frames = try? self.output.drain(self.session) {
      context.writeAndFlush(self.wrapOutboundOut(frames), promise: nil)
    }
  }

  func didReceiveHeaders(streamID: Int32, headers: NGHTTP2HeaderBlock, endStream: Bool) {
    guard headers.kind == .request else { return }
    self.refused.increment()
    try? self.session.resetStream(streamID: streamID, errorCode: .refusedStream)
  }

  func didReceiveData(streamID: Int32, data: ByteBuffer) {}
  func didReceiveEndStream(streamID: Int32) {}
  func didCloseStream(streamID: Int32, errorCode: HTTP2ErrorCode, attachment: AnyObject?) {}
  func didReceiveGoAway(lastStreamID: Int32, errorCode: HTTP2ErrorCode) {}
  func didReceiveSettings() {}
}

/// A listening RefusingHandler server on loopback, and how many streams it has refused.
private final class RefusingServer: Sendable {
  let channel: any Channel
  let refused = RefusalCount()

  init(group: any EventLoopGroup) async throws {
    let refused = self.refused
    self.channel = try await ServerBootstrap(group: group)
      .childChannelInitializer { [refused] channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(RefusingHandler(refused: refused))
        }
      }
      .bind(host: "127.0.0.1", port: 0).get()
  }

  var port: Int { self.channel.localAddress!.port! }
}

@Suite("Refused streams are retried once", .timeLimit(.minutes(1)))
struct RefusedStreamRetryTests {
  @Test("a call the server refused goes to another replica; each call counts once")
  func retriedOnAnotherReplica() async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let refusing = try await RefusingServer(group: group)
    try await TestServer.with { echoServer in
      var configuration = GRPCChannelConfiguration(host: "127.0.0.1", port: refusing.port)
      configuration.targets.append(.init(host: "127.0.0.1", port: echoServer.port))
      let registry = PrometheusCollectorRegistry()
      let channel = GRPCChannel(
        configuration: configuration, group: group,
        interceptors: [ClientMetrics(registry: registry)],
        logger: Logger(label: "test"))
      await channel.start()
      let method = channel.method(EchoRequests.method)
      for _ in 0..<10 {
        let result = try await channel.unary(method, request: EchoRequests.request("retry")).result
          .get()
        #expect(result.status.code == .ok, "\(result.status)")
        #expect(result.peer == "127.0.0.1:\(echoServer.port)")
      }
      await channel.shutdown()

      // Round robin gave the refusing replica some of the calls; every one was retried.
      #expect((1..<10).contains(refusing.refused.value))
      let labels = [
        "grpc_service": "proto.EchoService", "grpc_method": "EchoService", "grpc_type": "unary",
      ]
      let server = try echoServer.exposition()
      #expect(
        server.value("grpc_server_handled_total", labels.merging(["grpc_code": "OK"]) { $1 }) == 10)
      let client = try ParsedExposition(
        String(
          decoding: MetricsExposition(registry: registry).render(.prometheusText), as: UTF8.self))
      #expect(client.value("grpc_client_started_total", labels) == 10)
      #expect(
        client.value("grpc_client_handled_total", labels.merging(["grpc_code": "OK"]) { $1 }) == 10)
      #expect(client.value("grpc_client_msg_sent_total", labels) == 10)
    }
    try await refusing.channel.close()
    try await group.shutdownGracefully()
  }

  @Test("a call refused twice ends UNAVAILABLE: one retry, no loop")
  func refusedTwice() async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let refusing = try await RefusingServer(group: group)
    let channel = GRPCChannel(
      configuration: GRPCChannelConfiguration(host: "127.0.0.1", port: refusing.port),
      group: group, interceptors: [], logger: Logger(label: "test"))
    await channel.start()
    let result = try await channel.unary(
      channel.method(EchoRequests.method), request: EchoRequests.request("retry")
    )
    .result.get()
    #expect(result.status.code == .unavailable)
    #expect(refusing.refused.value == 2)
    await channel.shutdown()
    try await refusing.channel.close()
    try await group.shutdownGracefully()
  }
}
