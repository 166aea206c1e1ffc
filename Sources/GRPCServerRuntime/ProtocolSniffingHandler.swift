import GRPCWire
import HTTP1Serving
import Logging
import NIOCore
import NIOHTTP1

/// Decides from a connection's first bytes whether it speaks HTTP/2 (prior knowledge: gRPC) or
/// HTTP/1.1 (`/metrics` and friends), then replaces itself with the right handlers.
///
/// It decides as soon as the bytes diverge from the HTTP/2 preface, so an HTTP/1.1 client never
/// waits, and an HTTP/2 client is served as soon as its 24-byte preface is in: nothing depends on
/// frames a client might hold back until it sees the server's SETTINGS (the cmux pitfall).
final class ProtocolSniffingHandler: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer

  private let makeGRPCHandler: (any EventLoop) -> GRPCConnectionHandler
  private let http1Router: HTTP1Router
  private let prefaceTimeout: TimeAmount
  private let http1Limits: HTTP1ConnectionLimits
  private var buffered: ByteBuffer?
  private var timeout: Scheduled<Void>?

  /// - Parameters:
  ///   - prefaceTimeout: How long a new connection may take to show its protocol.
  ///   - http1Limits: What an HTTP/1.1 connection's requests are held to, idleness included. (The
  ///     gRPC handler watches idleness itself.)
  init(
    prefaceTimeout: TimeAmount,
    http1Limits: HTTP1ConnectionLimits,
    http1Router: HTTP1Router,
    makeGRPCHandler: @escaping (any EventLoop) -> GRPCConnectionHandler
  ) {
    self.prefaceTimeout = prefaceTimeout
    self.http1Limits = http1Limits
    self.http1Router = http1Router
    self.makeGRPCHandler = makeGRPCHandler
  }

  func handlerAdded(context: ChannelHandlerContext) {
    // A client that connects and never speaks would otherwise hold a socket forever.
    let channel = context.channel
    self.timeout = context.eventLoop.scheduleTask(in: self.prefaceTimeout) {
      channel.close(promise: nil)
    }
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    self.timeout?.cancel()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    var incoming = self.unwrapInboundIn(data)
    if var buffered = self.buffered {
      buffered.writeBuffer(&incoming)
      self.buffered = buffered
    } else {
      self.buffered = incoming
    }
    guard let bytes = self.buffered else { return }
    switch ConnectionPreface.detect(bytes) {
    case .needMoreBytes:
      return
    case .http2:
      let eventLoop = context.eventLoop
      self.become(context: context) { pipeline in
        try pipeline.addHandler(self.makeGRPCHandler(eventLoop))
      }
    case .http1:
      self.become(context: context) { pipeline in
        try pipeline.configureGuardedHTTP1Server(limits: self.http1Limits)
        try pipeline.addHandler(HTTP1EndpointHandler(router: self.http1Router))
      }
    }
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if event is ChannelShouldQuiesceEvent {
      context.close(promise: nil)  // Nothing has been asked of this connection yet.
    } else {
      context.fireUserInboundEventTriggered(event)
    }
  }

  /// Installs the protocol's handlers behind this one, hands them the bytes read so far and
  /// leaves the pipeline.
  private func become(
    context: ChannelHandlerContext,
    _ install: (ChannelPipeline.SynchronousOperations) throws -> Void
  ) {
    self.timeout?.cancel()
    self.timeout = nil
    do {
      try install(context.pipeline.syncOperations)
    } catch {
      context.close(promise: nil)
      return
    }
    if let bytes = self.buffered {
      self.buffered = nil
      context.fireChannelRead(self.wrapInboundOut(bytes))
    }
    context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
  }
}

@available(*, unavailable)
extension ProtocolSniffingHandler: Sendable {}
