import NIOCore
import NIOHTTP1

/// A complete response on its way out, with what the request it answers decides about framing.
struct HTTP1Answer {
  var response: HTTP1Response
  /// The request's version, repeated in the status line.
  var version: HTTPVersion
  /// Whether the connection stays open after it; `Connection: close` is sent otherwise.
  var keepAlive: Bool
  /// `false` for a `HEAD` request: the headers (`Content-Length` included) without the body.
  var includesBody: Bool
}

/// Writes each ``HTTP1Answer`` as bytes: the status line and headers in one buffer, with the body
/// copied behind them when it is small (one buffer, one `iovec`) and passed on as it is when it is
/// not (a scrape's 44 KB). One write per response, where NIO's encoder took a head, a body and an
/// end through every handler in front of it.
///
/// Header names must be tokens and values may not hold CR, LF or NUL (RFC 9110 §5.5): a response
/// that breaks that is never sent as it is (response splitting), but replaced by a `500` that names
/// the header.
final class HTTP1ResponseEncoder: ChannelOutboundHandler {
  typealias OutboundIn = HTTP1Answer
  typealias OutboundOut = IOData

  /// Bodies up to this size are copied behind the head.
  static let maxCopiedBody = 16 * 1024

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    var answer = self.unwrapOutboundIn(data)
    if let invalid = answer.response.invalidHeader {
      answer.response = .text(.internalServerError, "the response header \(invalid) is not valid\n")
    }
    let body = answer.response.body
    let copiesBody = answer.includesBody && body.readableBytes <= Self.maxCopiedBody
    var buffer = context.channel.allocator.buffer(
      capacity: answer.headLength + (copiesBody ? body.readableBytes : 0))
    answer.writeHead(into: &buffer)
    if copiesBody { buffer.writeImmutableBuffer(body) }
    guard answer.includesBody, !copiesBody else {
      context.write(self.wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
      return
    }
    context.write(self.wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
    context.write(self.wrapOutboundOut(.byteBuffer(body)), promise: promise)
  }
}

@available(*, unavailable)
extension HTTP1ResponseEncoder: Sendable {}

extension HTTP1Answer {
  /// The bytes of the status line and headers, or close above (a buffer's capacity).
  fileprivate var headLength: Int {
    var length = 64 + self.response.contentType.utf8.count
    for (name, value) in self.response.headers { length += name.utf8.count + value.utf8.count + 4 }
    return length
  }

  fileprivate func writeHead(into buffer: inout ByteBuffer) {
    buffer.writeStaticString(self.version.minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ")
    buffer.writeString(String(self.response.status.code))
    buffer.writeStaticString(" ")
    buffer.writeString(self.response.status.reasonPhrase)
    buffer.writeStaticString("\r\nContent-Type: ")
    buffer.writeString(self.response.contentType)
    buffer.writeStaticString("\r\nContent-Length: ")
    buffer.writeString(String(self.response.body.readableBytes))
    for (name, value) in self.response.headers {
      buffer.writeStaticString("\r\n")
      buffer.writeString(name)
      buffer.writeStaticString(": ")
      buffer.writeString(value)
    }
    buffer.writeStaticString(self.keepAlive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n")
  }
}

extension HTTP1Response {
  /// The first header (`Content-Type` included) whose name is not a token or whose value holds
  /// CR, LF or NUL.
  fileprivate var invalidHeader: String? {
    if !Self.isValidValue(self.contentType) { return "Content-Type" }
    for (name, value) in self.headers where !Self.isToken(name) || !Self.isValidValue(value) {
      return Self.isToken(name) ? name : "name \(name.debugDescription)"
    }
    return nil
  }

  private static func isToken(_ name: String) -> Bool {
    !name.isEmpty
      && name.utf8.allSatisfy { byte in
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
          UInt8(ascii: "0")...UInt8(ascii: "9"):
          true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
      }
  }

  private static func isValidValue(_ value: String) -> Bool {
    !value.utf8.contains { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") || $0 == 0 }
  }
}
