import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import HTTP1Serving

/// ``HTTP1RequestQueue`` in the guarded pipeline on an `EmbeddedChannel`: which requests reach the
/// handler when, and which reads reach the socket.
@Suite("HTTP1RequestQueue")
struct HTTP1RequestQueueTests {
  typealias Connection = HTTP1RequestGuardTests.Connection

  /// Counts the reads that reach the socket (the channel asks for one after every read burst).
  final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = Never
    var reads = 0

    func read(context: ChannelHandlerContext) {
      self.reads += 1
      context.read()
    }
  }

  static func counted(_ connection: Connection) throws -> ReadCounter {
    let counter = ReadCounter()
    try connection.channel.pipeline.syncOperations.addHandler(counter, position: .first)
    return counter
  }

  static let request = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"

  @Test("a client that waits for each answer is read while its request is answered")
  func readsWhileAnswering() throws {
    let connection = try Connection(answersAtOnce: false)
    let counter = try Self.counted(connection)
    try connection.send(Self.request)
    connection.channel.read()
    #expect(counter.reads == 1)
    #expect(connection.responder.waiting.count == 1)
    connection.responder.answer()
    #expect(HTTP1RequestGuardTests.statuses(try connection.written()) == ["200"])
  }

  @Test("a pipelined request waits for the answer before it, and reading waits with it")
  func pipelinedRequestHoldsReading() throws {
    let connection = try Connection(answersAtOnce: false)
    let counter = try Self.counted(connection)
    try connection.send(Self.request + Self.request)
    #expect(connection.responder.waiting.count == 1)
    connection.channel.read()
    #expect(counter.reads == 0)
    connection.responder.answer()
    #expect(connection.responder.waiting.count == 1, "the second request, handed on")
    #expect(counter.reads == 1, "the held read, issued")
    connection.responder.answer()
    #expect(HTTP1RequestGuardTests.statuses(try connection.written()) == ["200", "200"])
  }

  @Test("a request waits while the socket is full")
  func waitsForWritability() throws {
    let connection = try Connection()
    let counter = try Self.counted(connection)
    connection.channel.isWritable = false
    connection.channel.pipeline.fireChannelWritabilityChanged()
    try connection.send(Self.request)
    connection.channel.read()
    #expect(try connection.written().isEmpty)
    #expect(counter.reads == 0)
    connection.channel.isWritable = true
    connection.channel.pipeline.fireChannelWritabilityChanged()
    #expect(HTTP1RequestGuardTests.statuses(try connection.written()) == ["200"])
    #expect(counter.reads == 1)
  }

  /// Requests answered at once, handed on from the queue one after another, used to nest a call
  /// per request.
  @Test("thousands of waiting requests answered at once are answered in order")
  func manyWaiting() throws {
    let connection = try Connection()
    connection.channel.isWritable = false
    connection.channel.pipeline.fireChannelWritabilityChanged()
    let targets = (0..<3000).map { "/\($0)" }
    try connection.send(targets.map { "GET \($0) HTTP/1.1\r\nHost: a\r\n\r\n" }.joined())
    connection.channel.isWritable = true
    connection.channel.pipeline.fireChannelWritabilityChanged()
    #expect(HTTP1RequestGuardTests.statuses(try connection.written()).count == 3000)
    #expect(connection.isOpen)
  }

  @Test("quiescing closes an idle connection at once")
  func quiesceIdle() throws {
    let connection = try Connection()
    try connection.send(Self.request)
    #expect(HTTP1RequestGuardTests.statuses(try connection.written()) == ["200"])
    connection.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
    #expect(!connection.isOpen)
  }

  @Test("quiescing answers the request in progress with Connection: close, drops the rest")
  func quiesceWhileAnswering() throws {
    let connection = try Connection(answersAtOnce: false)
    try connection.send(Self.request + Self.request)
    connection.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
    #expect(connection.isOpen)
    connection.responder.answer()
    let answer = try connection.written()
    #expect(HTTP1RequestGuardTests.statuses(answer) == ["200"])
    #expect(answer.lowercased().contains("connection: close"))
    #expect(!connection.isOpen)
    #expect(connection.responder.waiting.isEmpty)
  }

  @Test("quiescing while a body arrives: the request is read to its end and answered")
  func quiesceDuringBody() throws {
    let connection = try Connection()
    try connection.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345")
    connection.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
    #expect(connection.isOpen)
    try connection.send("67890" + Self.request)
    let answer = try connection.written()
    #expect(HTTP1RequestGuardTests.statuses(answer) == ["200"])
    #expect(answer.lowercased().contains("connection: close"))
    #expect(!connection.isOpen)
  }
}
