import NGHTTP2
import NIOCore
import Testing

@Suite("Many streams and large bodies")
struct NGHTTP2SessionLoadTests {
  @Test("100 concurrent streams, answered out of order and interleaved, each get their own bytes")
  func concurrentStreams() throws {
    let pair = SessionPair()
    var streamIDs: [Int32] = []
    for index in 0..<100 {
      let streamID = try pair.client.submitRequest(headers: Fixtures.request())
      try pair.client.sendData(
        streamID: streamID, Fixtures.buffer("request \(index)"), endStream: true)
      streamIDs.append(streamID)
    }
    try pair.exchange()
    #expect(Set(pair.serverEvents.requestStreamIDs) == Set(streamIDs))
    #expect(pair.server.openStreamCount == 100)

    for streamID in streamIDs.reversed() {
      try pair.server.submitResponseHeaders(
        streamID: streamID, headers: Fixtures.response, endStream: false)
      try pair.server.sendData(
        streamID: streamID, Fixtures.buffer("reply \(streamID) "), endStream: false)
    }
    try pair.exchange()
    for streamID in streamIDs {
      try pair.server.sendData(streamID: streamID, Fixtures.buffer("part two"), endStream: false)
      try pair.server.sendTrailers(streamID: streamID, headers: Fixtures.trailers)
    }
    try pair.exchange()

    for (index, streamID) in streamIDs.enumerated() {
      #expect(
        pair.serverEvents.events(of: streamID) == [
          .headers(streamID, .request, Fixtures.requestFields(), endStream: false),
          .data(streamID, Fixtures.bytes("request \(index)")),
          .endStream(streamID),
          .closed(streamID, errorCode: .noError),
        ])
      #expect(
        pair.clientEvents.events(of: streamID) == [
          .headers(streamID, .response, Fixtures.responseFields, endStream: false),
          .data(streamID, Fixtures.bytes("reply \(streamID) part two")),
          .headers(streamID, .trailers, Fixtures.trailerFields, endStream: true),
          .endStream(streamID),
          .closed(streamID, errorCode: .noError),
        ])
    }
    pair.expectNoStreamState()
  }

  @Test("A 1 MiB body each way flows through 64 KiB windows via WINDOW_UPDATEs")
  func largeBodies() throws {
    // The protocol's default windows: 1 MiB cannot pass without WINDOW_UPDATEs on both the
    // stream and the connection.
    var settings = NGHTTP2Settings.defaults
    settings.initialWindowSize = 65_535
    settings.connectionWindowSize = 65_535
    let pair = SessionPair(client: settings, server: settings)
    let body = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }

    // The server echoes every chunk as it arrives, so both directions are in flight at once.
    pair.serverEvents.onData = { [server = pair.server] streamID, bytes in
      try! server.sendData(streamID: streamID, ByteBuffer(bytes: bytes), endStream: false)
    }
    pair.serverEvents.onEndStream = { [server = pair.server] streamID in
      try! server.sendTrailers(streamID: streamID, headers: Fixtures.trailers)
    }
    let streamID = try pair.client.submitRequest(headers: Fixtures.request())
    try pair.exchange()
    try pair.server.submitResponseHeaders(
      streamID: streamID, headers: Fixtures.response, endStream: false)
    try pair.client.sendData(streamID: streamID, ByteBuffer(bytes: body), endStream: true)
    try pair.exchange()

    let received = pair.serverEvents.events(of: streamID)
    #expect(received.count == 4)
    #expect(received.dropFirst().first == .data(streamID, body))
    let echoed = pair.clientEvents.events(of: streamID)
    #expect(echoed.count == 5)
    #expect(echoed.dropFirst().first == .data(streamID, body))
    #expect(echoed.last == .closed(streamID, errorCode: .noError))
    pair.expectNoStreamState()
  }
}
