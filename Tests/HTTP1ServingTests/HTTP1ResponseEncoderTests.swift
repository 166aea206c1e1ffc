import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import HTTP1Serving

/// ``HTTP1ResponseEncoder`` alone on an `EmbeddedChannel`: the bytes of each answer, and how many
/// buffers carry them.
@Suite("HTTP1ResponseEncoder")
struct HTTP1ResponseEncoderTests {
  /// The buffers `answer` is written as.
  static func encode(_ answer: HTTP1Answer) throws -> [String] {
    let channel = EmbeddedChannel(handler: HTTP1ResponseEncoder())
    try channel.writeOutbound(answer)
    var buffers: [String] = []
    while let data = try channel.readOutbound(as: IOData.self) {
      guard case .byteBuffer(let buffer) = data else { continue }
      buffers.append(String(buffer: buffer))
    }
    return buffers
  }

  static func answer(
    _ response: HTTP1Response, version: HTTPVersion = .http1_1, keepAlive: Bool = true,
    includesBody: Bool = true
  ) -> HTTP1Answer {
    HTTP1Answer(
      response: response, version: version, keepAlive: keepAlive, includesBody: includesBody)
  }

  @Test("a small response is one buffer: status line, headers, body")
  func smallResponse() throws {
    var response = HTTP1Response.text(.ok, "hello")
    response.headers = [("Cache-Control", "no-cache")]
    #expect(
      try Self.encode(Self.answer(response)) == [
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n"
          + "Cache-Control: no-cache\r\n\r\nhello"
      ])
  }

  @Test("a response that ends the connection says Connection: close")
  func closing() throws {
    let bytes = try Self.encode(Self.answer(.text(.notFound, "no"), keepAlive: false))
    #expect(bytes.count == 1)
    #expect(bytes[0].hasPrefix("HTTP/1.1 404 Not Found\r\n"))
    #expect(bytes[0].hasSuffix("Content-Length: 2\r\nConnection: close\r\n\r\nno"))
  }

  @Test("an HTTP/1.0 request is answered in HTTP/1.0")
  func http10() throws {
    let bytes = try Self.encode(Self.answer(.text(.ok, "x"), version: .http1_0))
    #expect(bytes[0].hasPrefix("HTTP/1.0 200 OK\r\n"))
  }

  @Test("HEAD gets the body's length and no body")
  func head() throws {
    let bytes = try Self.encode(Self.answer(.text(.ok, "hello"), includesBody: false))
    #expect(bytes.count == 1)
    #expect(bytes[0].hasSuffix("Content-Length: 5\r\n\r\n"))
  }

  @Test("a large body follows the head as its own buffer")
  func largeBody() throws {
    let body = String(repeating: "m", count: HTTP1ResponseEncoder.maxCopiedBody + 1)
    let bytes = try Self.encode(Self.answer(.text(.ok, body)))
    #expect(bytes.count == 2)
    #expect(bytes[0].hasSuffix("Content-Length: \(body.utf8.count)\r\n\r\n"))
    #expect(bytes[1] == body)
  }

  @Test(
    "a header that could split the response is never sent; a 500 names it",
    arguments: [
      ("X-Note", "a\r\nSet-Cookie: b", "X-Note"), ("Bad Name", "v", "name \"Bad Name\""),
      ("X-Nul", "a\u{0}b", "X-Nul"), ("", "v", "name \"\""),
    ])
  func invalidHeader(name: String, value: String, named: String) throws {
    var response = HTTP1Response.text(.ok, "fine")
    response.headers = [(name, value)]
    let bytes = try Self.encode(Self.answer(response)).joined()
    #expect(bytes.hasPrefix("HTTP/1.1 500 Internal Server Error\r\n"))
    #expect(bytes.hasSuffix("\r\n\r\nthe response header \(named) is not valid\n"))
    #expect(!bytes.contains("Set-Cookie"))
  }

  @Test("a Content-Type with a line break is never sent")
  func invalidContentType() throws {
    let response = HTTP1Response(
      status: .ok, contentType: "text/plain\r\nX: y", body: ByteBuffer(string: "fine"))
    let bytes = try Self.encode(Self.answer(response)).joined()
    #expect(bytes.hasSuffix("the response header Content-Type is not valid\n"))
  }
}
