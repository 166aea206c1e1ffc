import GRPCClientChannel
import HTTP1Serving
import NIOCore
import NIOHTTP1

/// Serves the gateway on one HTTP/1.1 connection (keep-alive; `HTTP1RequestQueue` hands it
/// pipelined requests one at a time). A request is parsed, forwarded, answered and recorded on the
/// connection's event loop; when the client goes away mid-call, the gRPC call is cancelled.
final class GatewayHTTPHandler: ChannelInboundHandler {
  typealias InboundIn = HTTPServerRequestPart

  private let responder: GatewayResponder
  private let metrics: HTTPServerMetrics
  private let limits: GatewayRoute.Limits
  private var head: HTTPRequestHead?
  /// The body so far; ``HTTP1RequestGuard`` ends the connection before it outgrows
  /// ``GatewayRoute/Limits/maxBodyBytes``.
  private var body: [UInt8]?
  private var startTime = ContinuousClock.now
  private var inFlight: GRPCCallCancellation?
  private var isActive = true

  init(responder: GatewayResponder, metrics: HTTPServerMetrics, limits: GatewayRoute.Limits) {
    self.responder = responder
    self.metrics = metrics
    self.limits = limits
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch self.unwrapInboundIn(data) {
    case .head(let head):
      self.head = head
      self.body = nil
      self.startTime = .now
    case .body(let chunk):
      self.body = (self.body ?? []) + chunk.readableBytesView
    case .end:
      guard let head = self.head else { return }
      self.head = nil
      self.handle(head, context: context)
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    self.isActive = false
    self.inFlight?.cancel()
    self.inFlight = nil
    context.fireChannelInactive()
  }

  private func handle(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
    let route = GatewayRoute(
      method: head.method, uri: head.uri, accept: head.headers.first(name: "accept"),
      body: self.body, limits: self.limits)
    self.body = nil
    let answer = self.responder.respond(to: route, head: head, on: context.eventLoop) {
      response in
      self.inFlight = nil
      guard self.isActive else { return }
      self.write(response, for: head, context: context)
    }
    switch answer {
    case .now(let response):
      self.write(response, for: head, context: context)
    case .later(let call):
      // A call that ended before it was handed back (its connection was closing) leaves a
      // handle here that cancels nothing.
      self.inFlight = call
    }
  }

  /// Answers the request and records it in the gateway's HTTP metrics.
  private func write(
    _ response: HTTP1Response, for head: HTTPRequestHead, context: ChannelHandlerContext
  ) {
    response.write(answering: head, on: context)
    self.metrics.record(
      method: head.method, path: String(RequestTarget(head.uri).path),
      status: Int(response.status.code),
      duration: ContinuousClock.now - self.startTime)
  }
}

@available(*, unavailable)
extension GatewayHTTPHandler: Sendable {}
