import NGHTTP2
import NIOCore
import Testing

@Suite("Request and response exchange")
struct NGHTTP2SessionExchangeTests {
  @Test("Both sides open with their preface and SETTINGS, and honour the peer's settings")
  func settingsExchange() throws {
    var serverSettings = NGHTTP2Settings.defaults
    serverSettings.maxConcurrentStreams = 1
    let pair = SessionPair(server: serverSettings)

    var clientFirst = ByteBuffer()
    var serverFirst = ByteBuffer()
    try pair.client.drain(into: &clientFirst)
    try pair.server.drain(into: &serverFirst)
    let preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    let prefaceLength = preface.utf8.count
    #expect(clientFirst.getString(at: clientFirst.readerIndex, length: prefaceLength) == preface)
    // Byte 3 of a frame header is its type; 4 is SETTINGS.
    #expect(clientFirst.getInteger(at: clientFirst.readerIndex + prefaceLength + 3) == UInt8(4))
    #expect(serverFirst.getInteger(at: serverFirst.readerIndex + 3) == UInt8(4))
    #expect(pair.clientEvents.settingsReceived == 0 && pair.serverEvents.settingsReceived == 0)
    try pair.server.receive(clientFirst)
    try pair.client.receive(serverFirst)
    try pair.exchange()
    #expect(
      pair.clientEvents.settingsReceived == 1 && pair.serverEvents.settingsReceived == 1,
      "each side's SETTINGS are reported once; their acknowledgements are not")
    #expect(!pair.client.wantsWrite && !pair.server.wantsWrite)
    #expect(pair.client.wantsRead && pair.server.wantsRead)

    // The server allows one stream at a time: the client holds the second request back.
    let first = try pair.client.submitRequest(headers: Fixtures.request(), endStream: true)
    let second = try pair.client.submitRequest(headers: Fixtures.request(), endStream: true)
    try pair.exchange()
    #expect(pair.serverEvents.requestStreamIDs == [first])

    try pair.server.submitResponseHeaders(
      streamID: first,
      headers: NGHTTP2HeaderList(Fixtures.response.fields + Fixtures.trailers.fields),
      endStream: true)
    try pair.exchange()
    #expect(pair.serverEvents.requestStreamIDs == [first, second])
    try pair.server.submitResponseHeaders(
      streamID: second,
      headers: NGHTTP2HeaderList(Fixtures.response.fields + Fixtures.trailers.fields),
      endStream: true)
    try pair.exchange()
    pair.expectNoStreamState()
  }

  @Test("A request with a body arrives as one header block, its bytes, then end of stream")
  func requestWithBody() throws {
    let pair = SessionPair()
    let streamID = try pair.client.submitRequest(headers: Fixtures.request())
    try pair.client.sendData(streamID: streamID, Fixtures.buffer("hello, "), endStream: false)
    try pair.client.sendData(streamID: streamID, Fixtures.buffer("server"), endStream: true)
    try pair.exchange()

    #expect(
      pair.serverEvents.events(of: streamID) == [
        .headers(streamID, .request, Fixtures.requestFields(), endStream: false),
        .data(streamID, Fixtures.bytes("hello, server")),
        .endStream(streamID),
      ])
    #expect(pair.server.openStreamCount == 1)
    #expect(pair.client.openStreamCount == 1)
  }

  @Test("A response of headers, several chunks and trailers reaches the client in order")
  func responseWithTrailers() throws {
    let pair = SessionPair()
    pair.serverEvents.onEndStream = { [server = pair.server] streamID in
      // A synchronous handler answers from inside the event.
      try! server.submitResponseHeaders(
        streamID: streamID, headers: Fixtures.response, endStream: false)
      try! server.sendData(streamID: streamID, Fixtures.buffer("one,"), endStream: false)
      try! server.sendData(streamID: streamID, Fixtures.buffer("two,"), endStream: false)
      try! server.sendData(streamID: streamID, Fixtures.buffer("three"), endStream: false)
      try! server.sendTrailers(streamID: streamID, headers: Fixtures.trailers)
    }
    let streamID = try pair.client.submitRequest(headers: Fixtures.request())
    try pair.client.sendData(streamID: streamID, Fixtures.buffer("ping"), endStream: true)
    try pair.exchange()

    #expect(
      pair.clientEvents.events(of: streamID) == [
        .headers(streamID, .response, Fixtures.responseFields, endStream: false),
        .data(streamID, Fixtures.bytes("one,two,three")),
        .headers(streamID, .trailers, Fixtures.trailerFields, endStream: true),
        .endStream(streamID),
        .closed(streamID, errorCode: .noError),
      ])
    #expect(pair.serverEvents.events(of: streamID).last == .closed(streamID, errorCode: .noError))
    pair.expectNoStreamState()
  }

  @Test("A trailers-only response is one header block that ends the stream")
  func trailersOnly() throws {
    let pair = SessionPair()
    pair.serverEvents.onEndStream = { [server = pair.server] streamID in
      try! server.submitResponseHeaders(
        streamID: streamID,
        headers: NGHTTP2HeaderList(Fixtures.response.fields + [("grpc-status", "12")]),
        endStream: true)
    }
    let streamID = try pair.client.submitRequest(headers: Fixtures.request(), endStream: true)
    try pair.exchange()

    #expect(
      pair.clientEvents.events(of: streamID) == [
        .headers(
          streamID, .response, Fixtures.responseFields + ["grpc-status: 12"], endStream: true),
        .endStream(streamID),
        .closed(streamID, errorCode: .noError),
      ])
    pair.expectNoStreamState()
  }

  @Test("Data submitted after nghttp2 found the queue empty is sent once it is queued")
  func deferredData() throws {
    let pair = SessionPair()
    // The client's provider runs dry first: headers go out, the body follows later.
    let streamID = try pair.client.submitRequest(headers: Fixtures.request())
    try pair.exchange()
    #expect(pair.serverEvents.events(of: streamID).count == 1)
    try pair.client.sendData(streamID: streamID, Fixtures.buffer("late"), endStream: true)
    try pair.exchange()

    // An async handler: response headers now, the body and status later, in two steps.
    try pair.server.submitResponseHeaders(
      streamID: streamID, headers: Fixtures.response, endStream: false)
    try pair.exchange()
    try pair.server.sendData(streamID: streamID, Fixtures.buffer("first "), endStream: false)
    try pair.exchange()
    try pair.server.sendData(streamID: streamID, Fixtures.buffer("second"), endStream: false)
    try pair.exchange()
    #expect(pair.client.openStreamCount == 1)
    try pair.server.sendTrailers(streamID: streamID, headers: Fixtures.trailers)
    try pair.exchange()

    #expect(
      pair.serverEvents.events(of: streamID) == [
        .headers(streamID, .request, Fixtures.requestFields(), endStream: false),
        .data(streamID, Fixtures.bytes("late")),
        .endStream(streamID),
        .closed(streamID, errorCode: .noError),
      ])
    #expect(
      pair.clientEvents.events(of: streamID) == [
        .headers(streamID, .response, Fixtures.responseFields, endStream: false),
        .data(streamID, Fixtures.bytes("first second")),
        .headers(streamID, .trailers, Fixtures.trailerFields, endStream: true),
        .endStream(streamID),
        .closed(streamID, errorCode: .noError),
      ])
    pair.expectNoStreamState()
  }

  @Test("Header blocks that differ from the previous ones arrive as sent")
  func varyingHeaders() throws {
    let pair = SessionPair()
    let paths = ["/echo.Echo/Get", "/echo.Echo/Update", "/echo.Echo/Get", "/x"]
    var streamIDs: [Int32] = []
    for path in paths {
      var headers = Fixtures.requestHeaders(path: path)
      if path == "/x" {
        headers.removeLast()  // A shorter block than the one before.
      }
      streamIDs.append(
        try pair.client.submitRequest(headers: NGHTTP2HeaderList(headers), endStream: true))
      try pair.exchange()
    }
    for (path, streamID) in zip(paths, streamIDs) {
      var expected = Fixtures.requestFields(path: path)
      if path == "/x" {
        expected.removeLast()
      }
      #expect(
        pair.serverEvents.events(of: streamID).first
          == .headers(streamID, .request, expected, endStream: true))
    }
  }
}

@Suite("Stream attachments")
struct NGHTTP2StreamAttachmentTests {
  private final class Marker {}

  @Test("An attachment stays with its stream and comes back once, when the stream closes")
  func attachmentReturnedOnClose() throws {
    let pair = SessionPair()
    let marker = Marker()
    let streamID = try pair.client.submitRequest(headers: Fixtures.request(), endStream: true)
    pair.client.attach(marker, to: streamID)
    #expect(pair.client.attachment(of: streamID) === marker)
    #expect(pair.client.attachment(of: streamID + 2) == nil)
    pair.client.attach(Marker(), to: streamID + 2)  // No such stream: ignored.
    #expect(pair.client.attachments.count == 1)

    try pair.exchange()
    try pair.server.submitResponseHeaders(
      streamID: streamID,
      headers: NGHTTP2HeaderList(Fixtures.response.fields + Fixtures.trailers.fields),
      endStream: true)
    try pair.exchange()
    #expect(pair.clientEvents.closedAttachments[streamID] === marker)
    #expect(pair.client.attachment(of: streamID) == nil)
    #expect(pair.serverEvents.closedAttachments[streamID] == nil, "the server attached nothing")
    pair.expectNoStreamState()
  }

  @Test("Detached streams stay open but close without their objects")
  func detaching() throws {
    let pair = SessionPair()
    let first = try pair.client.submitRequest(headers: Fixtures.request(), endStream: true)
    let second = try pair.client.submitRequest(headers: Fixtures.request(), endStream: true)
    let third = try pair.client.submitRequest(headers: Fixtures.request(), endStream: true)
    let markers = [Marker(), Marker(), Marker()]
    for (streamID, marker) in zip([first, second, third], markers) {
      pair.client.attach(marker, to: streamID)
    }
    pair.client.detach(from: first)
    #expect(pair.client.attachment(of: first) == nil)
    #expect(pair.client.openStreamCount == 3)

    let detached = pair.client.detachAll()
    #expect(detached.count == 2)
    #expect(detached.contains { $0 === markers[1] } && detached.contains { $0 === markers[2] })
    #expect(pair.client.attachments.isEmpty)
    #expect(pair.client.openStreamCount == 3)
  }

  @Test("A field added to an encoded list arrives after the list's, one value per request")
  func addedField() throws {
    let pair = SessionPair()
    let headers = Fixtures.request()
    let timeouts = ["1S", "999m", ""]
    var streamIDs: [Int32] = []
    for timeout in timeouts {
      streamIDs.append(
        try pair.client.submitRequest(
          headers: headers, adding: "grpc-timeout", timeout, endStream: true))
    }
    try pair.exchange()
    for (timeout, streamID) in zip(timeouts, streamIDs) {
      #expect(
        pair.serverEvents.events(of: streamID).first
          == .headers(
            streamID, .request, Fixtures.requestFields() + ["grpc-timeout: \(timeout)"],
            endStream: true))
    }
  }
}
