import NGHTTP2
import NIOCore
import Testing

@Suite("Resets, GOAWAY and bad input")
struct NGHTTP2SessionLifecycleTests {
  @Test("A client's RST_STREAM CANCEL closes the server's stream with error code 8")
  func clientReset() throws {
    let pair = SessionPair()
    let streamID = try pair.client.submitRequest(headers: Fixtures.request())
    try pair.client.sendData(streamID: streamID, Fixtures.buffer("part"), endStream: false)
    try pair.exchange()
    #expect(pair.server.openStreamCount == 1)

    try pair.client.resetStream(streamID: streamID, errorCode: .cancel)
    try pair.exchange()

    #expect(
      pair.serverEvents.events(of: streamID).last
        == .closed(streamID, errorCode: .cancel))
    #expect(
      pair.clientEvents.events(of: streamID) == [
        .closed(streamID, errorCode: .cancel)
      ])
    // The server's late reply is refused, not sent.
    #expect(throws: NGHTTP2Error.self) {
      try pair.server.submitResponseHeaders(
        streamID: streamID, headers: Fixtures.response, endStream: false)
    }
    pair.expectNoStreamState()
  }

  @Test("A header block past twice the limit resets its stream; the connection carries on")
  func headerBlockFarOverTheLimit() throws {
    var serverSettings = NGHTTP2Settings.defaults
    serverSettings.maxHeaderListSize = 1024
    let pair = SessionPair(server: serverSettings)
    // A few large fields, as an HPACK bomb decodes: 8 KiB against a 1 KiB limit.
    let big = String(repeating: "b", count: 1000)
    let bomb = try pair.client.submitRequest(
      headers: NGHTTP2HeaderList(Fixtures.requestHeaders() + (0..<8).map { ("x-\($0)", big) }),
      endStream: true)
    try pair.exchange()
    #expect(pair.serverEvents.requestStreamIDs == [], "no fields of it reach the delegate")
    #expect(pair.clientEvents.events(of: bomb) == [.closed(bomb, errorCode: .internalError)])

    let next = try pair.client.submitRequest(headers: Fixtures.request(), endStream: true)
    try pair.exchange()
    #expect(pair.serverEvents.requestStreamIDs == [next])
    #expect(pair.server.wantsRead, "the connection is still up")
  }

  @Test("A graceful GOAWAY lets the in-flight stream finish, then both sides are done")
  func gracefulGoAway() throws {
    let pair = SessionPair()
    let streamID = try pair.client.submitRequest(headers: Fixtures.request())
    try pair.client.sendData(streamID: streamID, Fixtures.buffer("work"), endStream: true)
    try pair.exchange()

    try pair.server.beginGracefulShutdown()
    try pair.exchange()
    #expect(pair.clientEvents.goAways == [.goAway(lastStreamID: Int32.max, errorCode: .noError)])

    try pair.server.submitGoAway()
    try pair.exchange()
    #expect(
      pair.clientEvents.goAways == [
        .goAway(lastStreamID: Int32.max, errorCode: .noError),
        .goAway(lastStreamID: streamID, errorCode: .noError),
      ])
    #expect(pair.server.wantsRead, "the in-flight stream is still open")

    // A request after the final GOAWAY is refused without reaching the server.
    let late = try pair.client.submitRequest(headers: Fixtures.request(), endStream: true)
    try pair.exchange()
    #expect(pair.clientEvents.events(of: late) == [.closed(late, errorCode: .refusedStream)])
    #expect(pair.serverEvents.requestStreamIDs == [streamID])

    try pair.server.submitResponseHeaders(
      streamID: streamID, headers: Fixtures.response, endStream: false)
    try pair.server.sendData(streamID: streamID, Fixtures.buffer("done"), endStream: false)
    try pair.server.sendTrailers(streamID: streamID, headers: Fixtures.trailers)
    try pair.exchange()

    #expect(
      pair.clientEvents.events(of: streamID) == [
        .headers(streamID, .response, Fixtures.responseFields, endStream: false),
        .data(streamID, Fixtures.bytes("done")),
        .headers(streamID, .trailers, Fixtures.trailerFields, endStream: true),
        .endStream(streamID),
        .closed(streamID, errorCode: .noError),
      ])
    #expect(!pair.server.wantsRead && !pair.server.wantsWrite)
    #expect(!pair.client.wantsRead && !pair.client.wantsWrite)
    pair.expectNoStreamState()
  }

  @Test("Bytes that are not an HTTP/2 preface make a server session throw, not crash")
  func garbagePreface() throws {
    let server = NGHTTP2Session(role: .server)
    let events = EventRecorder()
    server.delegate = events
    let garbage = ByteBuffer(string: "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")

    #expect {
      try server.receive(garbage)
    } throws: { error in
      (error as? NGHTTP2Error)?.code == .protocolViolation
    }
    var output = ByteBuffer()
    try server.drain(into: &output)
    #expect(events.events.isEmpty)
    #expect(server.openStreamCount == 0)
  }

  @Test("An invalid frame after the preface makes the server answer with GOAWAY")
  func invalidFrame() throws {
    let pair = SessionPair()
    try pair.exchange()
    // A DATA frame on stream 0 is a connection error (PROTOCOL_ERROR, code 1).
    let dataOnStreamZero: [UInt8] = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41]
    try pair.server.receive(ByteBuffer(bytes: dataOnStreamZero))
    try pair.exchange()

    #expect(pair.clientEvents.goAways == [.goAway(lastStreamID: 0, errorCode: .protocolError)])
    #expect(!pair.server.wantsRead && !pair.server.wantsWrite)
  }

  @Test("Submissions that do not fit the stream's state are rejected with a reason")
  func misuse() throws {
    let pair = SessionPair()
    #expect(throws: NGHTTP2Error.self) {
      _ = try pair.server.submitRequest(headers: Fixtures.request())
    }
    #expect(throws: NGHTTP2Error.self) {
      try pair.server.sendData(streamID: 1, Fixtures.buffer("x"), endStream: true)
    }
    #expect(throws: NGHTTP2Error.self) {
      try pair.client.beginGracefulShutdown()
    }

    let streamID = try pair.client.submitRequest(headers: Fixtures.request(), endStream: true)
    try pair.exchange()
    let beforeHeaders = #expect(throws: NGHTTP2Error.self) {
      try pair.server.sendData(streamID: streamID, Fixtures.buffer("x"), endStream: false)
    }
    #expect(beforeHeaders?.code == .invalidState)

    try pair.server.submitResponseHeaders(
      streamID: streamID, headers: Fixtures.response, endStream: false)
    try pair.server.sendData(streamID: streamID, Fixtures.buffer("x"), endStream: true)
    let afterEnd = #expect(throws: NGHTTP2Error.self) {
      try pair.server.sendTrailers(streamID: streamID, headers: Fixtures.trailers)
    }
    #expect(afterEnd?.code == .invalidState)
    try pair.exchange()

    let closed = #expect(throws: NGHTTP2Error.self) {
      try pair.server.sendData(streamID: streamID, Fixtures.buffer("x"), endStream: true)
    }
    #expect(closed?.code == .streamClosed)
    pair.expectNoStreamState()
  }

  @Test("Streams still open when a session is released do not leak their state")
  func releaseWithOpenStreams() throws {
    weak var weakServer: NGHTTP2Session?
    do {
      let pair = SessionPair()
      let streamID = try pair.client.submitRequest(headers: Fixtures.request())
      try pair.exchange()
      try pair.server.submitResponseHeaders(
        streamID: streamID, headers: Fixtures.response, endStream: false)
      try pair.server.sendData(streamID: streamID, Fixtures.buffer("pending"), endStream: false)
      #expect(pair.server.openStreamCount == 1)
      weakServer = pair.server
    }
    #expect(weakServer == nil)
  }
}
