import GRPCWire
import HTTP1Serving
import NGHTTP2
import NIOCore
import NIOPosix

/// Limits and protocol settings of the gRPC server runtime.
public struct ServerRuntimeConfiguration: Sendable {
  /// The largest request message accepted, after decompression; larger ones end the call with
  /// `RESOURCE_EXHAUSTED`. The gRPC default is 4 MiB.
  public var maxReceiveMessageSize: Int
  /// Message encodings the server accepts and answers with.
  public var messageEncodings: GRPCMessageEncodingSet
  /// HTTP/2 settings announced to clients (concurrent streams, window, header list size).
  public var http2Settings: NGHTTP2Settings
  /// A connection that has not sent its first bytes by then is closed.
  public var prefaceTimeout: TimeAmount
  /// An HTTP/2 connection with no open RPC and nothing read for this long is closed with GOAWAY.
  public var idleTimeout: TimeAmount
  /// What HTTP/1.1 requests (`/metrics`, probes) are held to: head and body deadlines, the
  /// largest head, keep-alive idleness.
  public var http1: HTTP1ConnectionLimits
  /// The most connections open at once; one more is closed as soon as it is accepted.
  public var maxConnections: Int
  /// After this long without a byte from the client the server sends a PING (`nil`: never), so
  /// connections to vanished clients do not hold RPCs and memory forever.
  public var keepaliveInterval: TimeAmount?
  /// A keepalive PING not answered (by any bytes) within this closes the connection.
  public var keepaliveTimeout: TimeAmount
  /// The most response bytes a connection holds for a client that does not read them (waiting
  /// for its flow-control window or a full socket). A call whose next message would go past it
  /// ends with `RESOURCE_EXHAUSTED`, so a client that sends without reading cannot make the
  /// server buffer without bound. Server-streaming replies never get there: they are produced
  /// only while the call ``ServerCall/isReady``.
  public var maxQueuedResponseBytes: Int

  /// The defaults: 4 MiB messages, every encoding, nghttp2 defaults with 1,000 concurrent streams
  /// and a 16 KiB header list, 10 s to send a preface, 5 minutes idle, HTTP/1.1's
  /// ``HTTP1ConnectionLimits/defaults``, 10,000 connections, gRPC's keepalive defaults (a PING
  /// after 2 hours of silence, 20 s to answer it), and 16 MiB of unread responses per
  /// connection (four of the largest messages).
  public static var defaults: ServerRuntimeConfiguration {
    var settings = NGHTTP2Settings.defaults
    settings.maxConcurrentStreams = 1000
    settings.maxHeaderListSize = 16 * 1024
    return ServerRuntimeConfiguration(
      maxReceiveMessageSize: 4 * 1024 * 1024,
      messageEncodings: .all,
      http2Settings: settings,
      prefaceTimeout: .seconds(10),
      idleTimeout: .minutes(5),
      http1: .defaults,
      maxConnections: ServerBootstrap.defaultMaxConnections,
      keepaliveInterval: .hours(2),
      keepaliveTimeout: .seconds(20),
      maxQueuedResponseBytes: 16 * 1024 * 1024
    )
  }

  /// Creates a configuration; ``defaults`` is the usual start.
  public init(
    maxReceiveMessageSize: Int,
    messageEncodings: GRPCMessageEncodingSet,
    http2Settings: NGHTTP2Settings,
    prefaceTimeout: TimeAmount,
    idleTimeout: TimeAmount,
    http1: HTTP1ConnectionLimits,
    maxConnections: Int,
    keepaliveInterval: TimeAmount?,
    keepaliveTimeout: TimeAmount,
    maxQueuedResponseBytes: Int
  ) {
    self.maxQueuedResponseBytes = maxQueuedResponseBytes
    self.keepaliveInterval = keepaliveInterval
    self.keepaliveTimeout = keepaliveTimeout
    self.maxReceiveMessageSize = maxReceiveMessageSize
    self.messageEncodings = messageEncodings
    self.http2Settings = http2Settings
    self.prefaceTimeout = prefaceTimeout
    self.idleTimeout = idleTimeout
    self.http1 = http1
    self.maxConnections = maxConnections
  }
}
