import HTTP1Serving
import NIOCore
import NIOHTTP1

/// Serves an ``HTTP1Router`` on an HTTP/1.1 connection of the shared port, with keep-alive.
final class HTTP1EndpointHandler: ChannelInboundHandler {
  typealias InboundIn = HTTPServerRequestPart

  private let router: HTTP1Router
  private var head: HTTPRequestHead?

  init(router: HTTP1Router) {
    self.router = router
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch self.unwrapInboundIn(data) {
    case .head(let head):
      self.head = head
    case .body:
      // Request bodies mean nothing to these endpoints; they are read and dropped.
      break
    case .end:
      guard let head = self.head else { return }
      self.head = nil
      self.respond(to: head, context: context)
    }
  }

  private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
    self.router.respond(to: head).write(answering: head, on: context)
  }
}

@available(*, unavailable)
extension HTTP1EndpointHandler: Sendable {}
