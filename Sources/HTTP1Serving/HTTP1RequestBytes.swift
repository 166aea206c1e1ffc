import NIOCore

/// In front of the HTTP/1.1 request decoder: tells ``HTTP1RequestGuard`` about the bytes each
/// read brings before the decoder parses them and after, and drops what arrives once the guard is
/// ending the connection.
final class HTTP1RequestBytes: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer

  private let requestGuard: HTTP1RequestGuard
  private var guardContext: ChannelHandlerContext?

  init(requestGuard: HTTP1RequestGuard) {
    self.requestGuard = requestGuard
  }

  func handlerAdded(context: ChannelHandlerContext) {
    self.guardContext = try? context.pipeline.syncOperations.context(handler: self.requestGuard)
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    self.guardContext = nil
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard let guardContext = self.guardContext else {
      context.fireChannelRead(data)
      return
    }
    guard !self.requestGuard.isRefusing else { return }
    self.requestGuard.bytesArriving(self.unwrapInboundIn(data), context: guardContext)
    context.fireChannelRead(data)
    self.requestGuard.bytesParsed(context: guardContext)
  }
}

@available(*, unavailable)
extension HTTP1RequestBytes: Sendable {}
