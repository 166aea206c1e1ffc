import NIOCore
import NIOHTTP1

/// A complete HTTP/1.1 response produced by an ``HTTP1Router``.
package struct HTTP1Response: Sendable {
  /// The status line's code.
  package var status: HTTPResponseStatus
  /// The `Content-Type` header value.
  package var contentType: String
  /// Extra headers besides `Content-Type` and `Content-Length`.
  package var headers: [(String, String)]
  /// The body; `HEAD` requests get the headers only.
  package var body: ByteBuffer

  package init(
    status: HTTPResponseStatus,
    contentType: String,
    headers: [(String, String)] = [],
    body: ByteBuffer
  ) {
    self.status = status
    self.contentType = contentType
    self.headers = headers
    self.body = body
  }

  /// A `text/plain` response; errors use it so the body says what was wrong.
  package static func text(_ status: HTTPResponseStatus, _ text: String) -> HTTP1Response {
    HTTP1Response(
      status: status,
      contentType: "text/plain; charset=utf-8",
      body: ByteBuffer(string: text)
    )
  }
}
