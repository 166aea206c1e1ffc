import NIOCore

/// How long and how large an HTTP/1.1 request may be on its way in, so a slow or hostile client
/// cannot hold a connection open without sending a complete request (slowloris).
public struct HTTP1ConnectionLimits: Sendable {
  /// From a request's first byte to the end of its head; past it the client gets `408` and the
  /// connection is closed.
  public var headTimeout: TimeAmount
  /// From the end of a request's head to the end of its body; past it, `408` and close.
  public var bodyTimeout: TimeAmount
  /// How long a keep-alive connection may wait for the next request's first byte once every
  /// response is written, and how long a client may take none of its responses while the socket
  /// is full; then the connection is closed without an answer.
  public var idleTimeout: TimeAmount
  /// The largest request head (request line and headers); a larger one gets `431` and the
  /// connection is closed. NIO's HTTP parser refuses heads over 80 KiB whatever this says.
  public var maxHeadBytes: Int
  /// The largest request body; a larger one gets `413` and the connection is closed, at once
  /// when its `Content-Length` says so, otherwise when its bytes pass the limit.
  public var maxBodyBytes: Int

  /// 10 s for a head, 30 s for a body, 60 s idle, 16 KiB heads, 1 MiB bodies.
  public static var defaults: HTTP1ConnectionLimits {
    HTTP1ConnectionLimits(
      headTimeout: .seconds(10), bodyTimeout: .seconds(30), idleTimeout: .seconds(60),
      maxHeadBytes: 16 * 1024, maxBodyBytes: 1024 * 1024)
  }

  /// Creates limits; ``defaults`` is the usual start.
  public init(
    headTimeout: TimeAmount, bodyTimeout: TimeAmount, idleTimeout: TimeAmount, maxHeadBytes: Int,
    maxBodyBytes: Int
  ) {
    self.headTimeout = headTimeout
    self.bodyTimeout = bodyTimeout
    self.idleTimeout = idleTimeout
    self.maxHeadBytes = maxHeadBytes
    self.maxBodyBytes = maxBodyBytes
  }
}
