import NIOCore
import NIOHTTP1

extension HTTP1Response {
  /// Writes the response into an HTTP/1.1 server pipeline as the answer to `head`:
  /// `Content-Length` set, no body for `HEAD`, and the connection closed afterwards unless the
  /// request asked for keep-alive.
  public func write(answering head: HTTPRequestHead, on context: ChannelHandlerContext) {
    self.write(
      HTTP1Answer(
        response: self, version: head.version, keepAlive: head.isKeepAlive,
        includesBody: head.method != .HEAD),
      on: context)
  }

  /// Writes the response with `Connection: close` and closes the connection once it is sent:
  /// the answer to a request that could not be read to its end.
  func writeClosing(on context: ChannelHandlerContext) {
    self.write(
      HTTP1Answer(response: self, version: .http1_1, keepAlive: false, includesBody: true),
      on: context)
  }

  private func write(_ answer: HTTP1Answer, on context: ChannelHandlerContext) {
    if answer.keepAlive {
      context.writeAndFlush(NIOAny(answer), promise: nil)
    } else {
      let channel = context.channel
      context.writeAndFlush(NIOAny(answer)).whenComplete { _ in channel.close(promise: nil) }
    }
  }
}
