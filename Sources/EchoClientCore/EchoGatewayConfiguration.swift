import GRPCClientChannel
import HTTP1Serving
import Logging
import NIOPosix

/// Everything the echo client can be told, from flags or the original's environment variables.
public struct EchoGatewayConfiguration: Sendable {
  /// The address the HTTP server listens on.
  public var host: String
  /// The HTTP port (0 picks a free one).
  public var port: Int
  /// The gRPC server and how calls to it behave.
  public var channel: GRPCChannelConfiguration
  /// Event-loop threads shared by HTTP connections and gRPC connections: by default one per
  /// core the process may use (``UsableCores``).
  public var eventLoopThreads: Int
  /// The longest message `/echo` forwards, in UTF-8 bytes; longer ones get 413.
  public var maxMessageBytes: Int
  /// The longest request target (path and query) accepted; longer ones get 414.
  public var maxURILength: Int
  /// What HTTP/1.1 requests are held to: head and body deadlines, the largest head, keep-alive
  /// idleness.
  public var http1: HTTP1ConnectionLimits
  /// The most HTTP connections open at once; one more is closed as soon as it is accepted.
  public var maxConnections: Int
  /// Where the page links to Prometheus.
  public var prometheusURL: String
  /// Where the page links to Grafana.
  public var grafanaURL: String
  /// How long SIGTERM waits for in-flight requests.
  public var gracePeriod: Duration
  /// The lowest log level written.
  public var logLevel: Logger.Level

  /// Port 8081 on all interfaces, the server at 127.0.0.1:8080 with a 5 s deadline, an event
  /// loop per usable core, 16 KiB messages, 64 KiB targets in heads of up to 80 KiB (HTTP/1.1
  /// limits otherwise ``HTTP1ConnectionLimits/defaults``), 10,000 connections, Prometheus and
  /// Grafana on localhost's usual ports.
  public static var defaults: EchoGatewayConfiguration {
    var http1 = HTTP1ConnectionLimits.defaults
    http1.maxHeadBytes = 80 * 1024
    return EchoGatewayConfiguration(
      host: "0.0.0.0",
      port: 8081,
      channel: GRPCChannelConfiguration(host: "127.0.0.1", port: 8080),
      eventLoopThreads: UsableCores.count,
      maxMessageBytes: 16 * 1024,
      maxURILength: 64 * 1024,
      http1: http1,
      maxConnections: ServerBootstrap.defaultMaxConnections,
      prometheusURL: "http://localhost:9090",
      grafanaURL: "http://localhost:3000",
      gracePeriod: .seconds(10),
      logLevel: .info)
  }

  /// Creates a configuration; ``defaults`` is the usual start.
  public init(
    host: String,
    port: Int,
    channel: GRPCChannelConfiguration,
    eventLoopThreads: Int,
    maxMessageBytes: Int,
    maxURILength: Int,
    http1: HTTP1ConnectionLimits,
    maxConnections: Int,
    prometheusURL: String,
    grafanaURL: String,
    gracePeriod: Duration,
    logLevel: Logger.Level
  ) {
    self.host = host
    self.port = port
    self.channel = channel
    self.eventLoopThreads = eventLoopThreads
    self.maxMessageBytes = maxMessageBytes
    self.maxURILength = maxURILength
    self.http1 = http1
    self.maxConnections = maxConnections
    self.prometheusURL = prometheusURL
    self.grafanaURL = grafanaURL
    self.gracePeriod = gracePeriod
    self.logLevel = logLevel
  }
}
