import NIOCore
import NIOHTTP1

extension HTTP1Response {
  /// Writes the response into an HTTP/1.1 server pipeline (`HTTPServerResponsePart`s) as the
  /// answer to `head`: `Content-Length` set, no body for `HEAD`, and the connection closed
  /// afterwards unless the request asked for keep-alive.
  public func write(answering head: HTTPRequestHead, on context: ChannelHandlerContext) {
    self.write(
      version: head.version, keepAlive: head.isKeepAlive, withBody: head.method != .HEAD,
      on: context)
  }

  /// Writes the response with `Connection: close` and closes the connection once it is sent:
  /// the answer to a request that could not be read to its end.
  func writeClosing(on context: ChannelHandlerContext) {
    self.write(version: .http1_1, keepAlive: false, withBody: true, on: context)
  }

  private func write(
    version: HTTPVersion, keepAlive: Bool, withBody: Bool, on context: ChannelHandlerContext
  ) {
    var headers = HTTPHeaders()
    headers.reserveCapacity(self.headers.count + 3)
    headers.add(name: "Content-Type", value: self.contentType)
    headers.add(name: "Content-Length", value: String(self.body.readableBytes))
    for (name, value) in self.headers { headers.add(name: name, value: value) }
    if !keepAlive { headers.add(name: "Connection", value: "close") }

    let responseHead = HTTPResponseHead(version: version, status: self.status, headers: headers)
    context.write(NIOAny(HTTPServerResponsePart.head(responseHead)), promise: nil)
    if withBody {
      context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(self.body))), promise: nil)
    }
    let end = NIOAny(HTTPServerResponsePart.end(nil))
    if keepAlive {
      context.writeAndFlush(end, promise: nil)
    } else {
      let channel = context.channel
      context.writeAndFlush(end).whenComplete { _ in channel.close(promise: nil) }
    }
  }
}
