import NIOCore
import NIOHTTP1

/// A complete HTTP/1.1 response produced by an ``HTTP1Router``.
public struct HTTP1Response: Sendable {
  /// The status line's code.
  public var status: HTTPResponseStatus
  /// The `Content-Type` header value.
  public var contentType: String
  /// Extra headers besides `Content-Type` and `Content-Length`.
  public var headers: [(String, String)]
  /// The body; `HEAD` requests get the headers only.
  public var body: ByteBuffer

  /// Creates a response.
  public init(
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
  public static func text(_ status: HTTPResponseStatus, _ text: String) -> HTTP1Response {
    HTTP1Response(
      status: status,
      contentType: "text/plain; charset=utf-8",
      body: ByteBuffer(string: text)
    )
  }
}
