/// The HTTP/2 settings a session announces to its peer, plus the few local limits that go with
/// them.
///
/// Values must be valid HTTP/2 settings (RFC 9113 §6.5.2); the session traps on invalid ones,
/// since they are configuration mistakes, not runtime conditions.
public struct NGHTTP2Settings: Hashable, Sendable {
  /// SETTINGS_MAX_CONCURRENT_STREAMS: how many streams the peer may open at once.
  public var maxConcurrentStreams: Int

  /// SETTINGS_INITIAL_WINDOW_SIZE: the receive window of each stream, in bytes
  /// (at most 2^31 - 1).
  public var initialWindowSize: Int

  /// The receive window of the whole connection, in bytes (at least 65,535, the protocol's
  /// starting value; at most 2^31 - 1). Raised with a WINDOW_UPDATE right after SETTINGS.
  public var connectionWindowSize: Int

  /// SETTINGS_MAX_FRAME_SIZE: the largest frame payload the peer may send (16,384 ...
  /// 16,777,215).
  public var maxFrameSize: Int

  /// SETTINGS_MAX_HEADER_LIST_SIZE: the largest header block the peer should send, in bytes.
  public var maxHeaderListSize: Int

  /// Clients only: how many concurrent streams to assume the server allows until its SETTINGS
  /// arrive (nghttp2 would otherwise assume no limit).
  public var peerMaxConcurrentStreams: Int

  /// Creates settings.
  public init(
    maxConcurrentStreams: Int,
    initialWindowSize: Int,
    connectionWindowSize: Int,
    maxFrameSize: Int,
    maxHeaderListSize: Int,
    peerMaxConcurrentStreams: Int
  ) {
    self.maxConcurrentStreams = maxConcurrentStreams
    self.initialWindowSize = initialWindowSize
    self.connectionWindowSize = connectionWindowSize
    self.maxFrameSize = maxFrameSize
    self.maxHeaderListSize = maxHeaderListSize
    self.peerMaxConcurrentStreams = peerMaxConcurrentStreams
  }

  /// Settings for gRPC traffic: 100 concurrent streams (RFC 9113's recommended minimum, and what
  /// most servers announce), 1 MiB windows per stream and 16 MiB for the connection (a 4 MiB
  /// gRPC message then needs few WINDOW_UPDATE round trips, and many streams do not starve each
  /// other), the protocol's default frame size, and 16 KiB of headers.
  public static var defaults: NGHTTP2Settings {
    NGHTTP2Settings(
      maxConcurrentStreams: 100,
      initialWindowSize: 1 << 20,
      connectionWindowSize: 16 << 20,
      maxFrameSize: 16_384,
      maxHeaderListSize: 16_384,
      peerMaxConcurrentStreams: 100
    )
  }
}
