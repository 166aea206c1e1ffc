import NIOCore
import NIOHTTP1

/// Behind NIO's pipelining handler: holds the next request back from the request handler while
/// the connection cannot take more response bytes, so a client that pipelines requests and never
/// reads their replies makes the process wait instead of buffering every reply. (The pipelining
/// handler passes one request on per finished response and reads nothing from the socket while a
/// response is owed, so the held request also stops the reading.)
final class HTTP1WritabilityGate: ChannelInboundHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias InboundOut = HTTPServerRequestPart

  private var held: [NIOAny] = []

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    if self.held.isEmpty, context.channel.isWritable {
      context.fireChannelRead(data)
    } else {
      self.held.append(data)
    }
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    while !self.held.isEmpty, context.channel.isWritable {
      context.fireChannelRead(self.held.removeFirst())
    }
    context.fireChannelWritabilityChanged()
  }
}

@available(*, unavailable)
extension HTTP1WritabilityGate: Sendable {}
