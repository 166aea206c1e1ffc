import NGHTTP2
import NIOCore
import Testing

/// A client session and a server session wired back to back in memory.
final class SessionPair {
  let client: NGHTTP2Session
  let server: NGHTTP2Session
  let clientEvents = EventRecorder()
  let serverEvents = EventRecorder()

  init(
    client clientSettings: NGHTTP2Settings = .defaults,
    server serverSettings: NGHTTP2Settings = .defaults
  ) {
    self.client = NGHTTP2Session(role: .client, settings: clientSettings)
    self.server = NGHTTP2Session(role: .server, settings: serverSettings)
    self.client.delegate = self.clientEvents
    self.server.delegate = self.serverEvents
  }

  /// Moves bytes both ways, one drain per side per round (as a handler drains once per read
  /// burst), until neither side has anything left to send.
  func exchange(sourceLocation: SourceLocation = #_sourceLocation) throws {
    for _ in 0..<10_000 {
      var toServer = ByteBuffer()
      var toClient = ByteBuffer()
      try self.client.drain(into: &toServer)
      try self.server.drain(into: &toClient)
      if toServer.readableBytes == 0 && toClient.readableBytes == 0 {
        return
      }
      try self.server.receive(toServer)
      try self.client.receive(toClient)
    }
    Issue.record("the sessions never went quiet", sourceLocation: sourceLocation)
  }

  /// Asserts that neither side keeps state for any stream.
  func expectNoStreamState(sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(self.client.openStreamCount == 0, sourceLocation: sourceLocation)
    #expect(self.server.openStreamCount == 0, sourceLocation: sourceLocation)
    #expect(
      !self.client.hasOpenStreams && !self.server.hasOpenStreams, sourceLocation: sourceLocation)
  }
}
