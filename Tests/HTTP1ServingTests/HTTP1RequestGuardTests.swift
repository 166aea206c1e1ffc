import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import HTTP1Serving

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The guarded HTTP/1.1 pipeline on an `EmbeddedChannel`: deadlines on a manual clock, answers
/// read back as bytes.
@Suite("HTTP1RequestGuard")
struct HTTP1RequestGuardTests {
  static let limits = HTTP1ConnectionLimits(
    headTimeout: .seconds(10), bodyTimeout: .seconds(30), idleTimeout: .seconds(60),
    maxHeadBytes: 1024, maxBodyBytes: 4096)

  /// Answers every complete request with `200 ok`, or leaves it unanswered until `answer()`.
  final class Responder: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart

    let answersAtOnce: Bool
    var waiting: [HTTPRequestHead] = []
    var head: HTTPRequestHead?
    var context: ChannelHandlerContext?

    init(answersAtOnce: Bool) { self.answersAtOnce = answersAtOnce }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
      switch self.unwrapInboundIn(data) {
      case .head(let head): self.head = head
      case .body: break
      case .end:
        guard let head = self.head else { return }
        self.waiting.append(head)
        if self.answersAtOnce { self.answer() }
      }
    }

    func answer() {
      guard let context, !self.waiting.isEmpty else { return }
      HTTP1Response.text(.ok, "ok").write(answering: self.waiting.removeFirst(), on: context)
    }
  }

  struct Connection {
    let channel: EmbeddedChannel
    let responder: Responder

    init(answersAtOnce: Bool = true) throws {
      self.channel = EmbeddedChannel()
      self.responder = Responder(answersAtOnce: answersAtOnce)
      try self.channel.pipeline.syncOperations.configureGuardedHTTP1Server(
        limits: HTTP1RequestGuardTests.limits)
      try self.channel.pipeline.syncOperations.addHandler(self.responder)
      try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    }

    func send(_ text: String) throws {
      try self.channel.writeInbound(ByteBuffer(string: text))
    }

    func advance(_ amount: TimeAmount) {
      self.channel.embeddedEventLoop.advanceTime(by: amount)
    }

    /// Every byte written so far.
    func written() throws -> String {
      self.channel.embeddedEventLoop.run()
      var text = ""
      while let data = try self.channel.readOutbound(as: IOData.self) {
        guard case .byteBuffer(let buffer) = data else { continue }
        text += String(buffer: buffer)
      }
      return text
    }

    var isOpen: Bool {
      self.channel.embeddedEventLoop.run()
      return self.channel.isActive
    }
  }

  /// The status codes of the responses in `text`, in order.
  static func statuses(_ text: String) -> [String] {
    let responses: [String] = Array(text.components(separatedBy: "HTTP/1.1 ").dropFirst())
    let heads = responses.map { $0.prefix(4) }
    return heads.filter { $0.last == " " && $0.dropLast().allSatisfy(\.isNumber) }
      .map { String($0.prefix(3)) }
  }

  @Test("a head that is not complete in time gets 408 and the connection closes")
  func headTimeout() throws {
    let connection = try Connection()
    try connection.send("GET / HTTP/1.1\r\nHost: a\r\n")
    connection.advance(.seconds(9))
    #expect(try connection.written().isEmpty)
    #expect(connection.isOpen)
    connection.advance(.seconds(1))
    let answer = try connection.written()
    #expect(Self.statuses(answer) == ["408"])
    #expect(answer.contains("Connection: close"))
    #expect(answer.contains("the request head did not arrive within 10 s"))
    #expect(!connection.isOpen)
  }

  /// Found by `make fuzz` (FuzzHTTP1Server): the bytes after an HTTP/1.0 request in the same read
  /// were answered 400 after the response that had said `Connection: close`.
  @Test("nothing is written after a response that said Connection: close")
  func bytesAfterAClosingRequest() throws {
    let connection = try Connection()
    _ = try? connection.send("GET /a HTTP/1.0\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\n\r\n")
    let answer = try connection.written()
    #expect(answer.components(separatedBy: "HTTP/1.").count == 2, "\(answer)")
    #expect(answer.hasPrefix("HTTP/1.0 200 OK"))
    #expect(!connection.isOpen)
  }

  @Test("bytes arriving do not move the head's deadline")
  func dribbledHead() throws {
    let connection = try Connection()
    for byte in "GET / HTTP/1.1\r\nX-Slow: " + String(repeating: "a", count: 50) {
      try connection.send(String(byte))
      connection.advance(.milliseconds(300))
      if !connection.isOpen { break }
    }
    #expect(Self.statuses(try connection.written()) == ["408"])
    #expect(!connection.isOpen)
  }

  @Test("a Content-Length over the body limit gets 413 at once, after the answers owed")
  func announcedBodyTooLarge() throws {
    let connection = try Connection()
    try connection.send(
      "GET /first HTTP/1.1\r\nHost: a\r\n\r\n"
        + "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4097\r\n\r\n12345")
    let answer = try connection.written()
    #expect(Self.statuses(answer) == ["200", "413"])
    #expect(answer.contains("the request body is over 4096 bytes"))
    #expect(answer.hasSuffix("Connection: close\r\n\r\nthe request body is over 4096 bytes\n"))
    #expect(connection.responder.waiting.isEmpty, "the handler never saw the refused request")
    #expect(!connection.isOpen)
  }

  @Test("a chunked body that grows past the limit gets 413; one at the limit passes")
  func chunkedBodyTooLarge() throws {
    let atLimit = try Connection()
    let chunk = String(repeating: "a", count: 4096)
    try atLimit.send(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n\(chunk)\r\n0\r\n\r\n"
    )
    #expect(Self.statuses(try atLimit.written()) == ["200"])
    #expect(atLimit.isOpen)

    let over = try Connection()
    try over.send(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n\(chunk)\r\n1\r\na\r\n"
    )
    let answer = try over.written()
    #expect(Self.statuses(answer) == ["413"])
    #expect(answer.contains("the request body is over 4096 bytes"))
    #expect(!over.isOpen)
  }

  /// Responses still owed (held behind a full socket) used to stop every deadline: such a
  /// connection stayed open for good.
  @Test("a client that takes none of its responses for the idle timeout is disconnected")
  func stalledReader() throws {
    let connection = try Connection(answersAtOnce: false)
    try connection.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\n")
    connection.channel.isWritable = false  // The socket is full: the client reads nothing.
    connection.channel.pipeline.fireChannelWritabilityChanged()
    connection.advance(.seconds(59))
    #expect(connection.isOpen)
    connection.advance(.seconds(1))
    #expect(!connection.isOpen)

    let recovering = try Connection(answersAtOnce: false)
    try recovering.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\n")
    recovering.channel.isWritable = false
    recovering.channel.pipeline.fireChannelWritabilityChanged()
    recovering.advance(.seconds(30))
    recovering.channel.isWritable = true  // The client reads again.
    recovering.channel.pipeline.fireChannelWritabilityChanged()
    recovering.advance(.seconds(59))
    #expect(recovering.isOpen, "the stall ended; its timer with it")
  }

  @Test("a body that does not end in time gets 408")
  func bodyTimeout() throws {
    let connection = try Connection()
    try connection.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345")
    connection.advance(.seconds(29))
    #expect(connection.isOpen)
    connection.advance(.seconds(1))
    let answer = try connection.written()
    #expect(Self.statuses(answer) == ["408"])
    #expect(answer.contains("the request body did not arrive within 30 s"))
    #expect(!connection.isOpen)
  }

  @Test("a keep-alive connection is closed after the idle timeout, not while a reply is owed")
  func idle() throws {
    let connection = try Connection(answersAtOnce: false)
    try connection.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    connection.advance(.seconds(120))
    #expect(connection.isOpen, "a response is still owed")
    connection.responder.answer()
    #expect(Self.statuses(try connection.written()) == ["200"])
    connection.advance(.seconds(59))
    #expect(connection.isOpen)
    connection.advance(.seconds(1))
    #expect(!connection.isOpen)
    #expect(try connection.written().isEmpty, "idle connections are closed without an answer")
  }

  @Test("what cannot be parsed gets 400 and the connection closes")
  func garbage() throws {
    let connection = try Connection()
    try? connection.send("INVALID CONNECTION PREFACE\r\n\r\n")
    let answer = try connection.written()
    #expect(Self.statuses(answer) == ["400"])
    #expect(answer.contains("malformed HTTP/1.1 request"))
    #expect(!connection.isOpen)
  }

  @Test("a head over the limit gets 431, also when it arrives in pieces")
  func headTooLarge() throws {
    let connection = try Connection()
    try connection.send("GET / HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 600))
    #expect(connection.isOpen)
    try? connection.send(String(repeating: "a", count: 600))
    let answer = try connection.written()
    #expect(Self.statuses(answer) == ["431"])
    #expect(answer.contains("the request head is over 1024 bytes"))
    #expect(!connection.isOpen)
  }

  /// The head limit used to answer 431 here too, which blames the headers.
  @Test("a request line over the head limit gets 414 (RFC 9112 §3), in pieces as well")
  func targetTooLong() throws {
    let connection = try Connection()
    try connection.send("GET /echo?m=" + String(repeating: "a", count: 600))
    #expect(connection.isOpen)
    try? connection.send(String(repeating: "a", count: 600) + " HTTP/1.1\r\n\r\n")
    let answer = try connection.written()
    #expect(Self.statuses(answer) == ["414"])
    #expect(answer.contains("the request target is too long: the request line is over 1024 bytes"))
    #expect(!connection.isOpen)
  }

  @Test("a large body in the same read as its head is not counted as head")
  func bodyWithHead() throws {
    let connection = try Connection()
    let body = String(repeating: "b", count: 4000)
    try connection.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4000\r\n\r\n" + body)
    #expect(Self.statuses(try connection.written()) == ["200"])
    #expect(connection.isOpen)
  }

  @Test("an error after a pipelined request waits for that request's answer")
  func errorAfterOwedResponse() throws {
    let connection = try Connection(answersAtOnce: false)
    try? connection.send("GET / HTTP/1.1\r\nHost: a\r\n\r\nNOT HTTP\r\n\r\n")
    #expect(try connection.written().isEmpty)
    #expect(connection.isOpen)
    connection.responder.answer()
    #expect(Self.statuses(try connection.written()) == ["200", "400"])
    #expect(!connection.isOpen)
  }

  @Test("pipelined requests are answered in order")
  func pipelined() throws {
    let connection = try Connection()
    try connection.send(String(repeating: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", count: 3))
    #expect(Self.statuses(try connection.written()) == ["200", "200", "200"])
    #expect(connection.isOpen)
  }
}
