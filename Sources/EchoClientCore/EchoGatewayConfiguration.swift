import GRPCClientChannel
import Logging

/// Everything the echo client can be told, from flags or the original's environment variables.
public struct EchoGatewayConfiguration: Sendable {
  /// The address the HTTP server listens on.
  public var host: String
  /// The HTTP port (0 picks a free one).
  public var port: Int
  /// The gRPC server and how calls to it behave.
  public var channel: GRPCChannelConfiguration
  /// Event-loop threads shared by HTTP connections and gRPC connections.
  public var eventLoopThreads: Int
  /// The longest message `/echo` forwards, in UTF-8 bytes; longer ones get 413.
  public var maxMessageBytes: Int
  /// The longest request target (path and query) accepted; longer ones get 414.
  public var maxURILength: Int
  /// Where the page links to Prometheus.
  public var prometheusURL: String
  /// Where the page links to Grafana.
  public var grafanaURL: String
  /// How long SIGTERM waits for in-flight requests.
  public var gracePeriod: Duration
  /// The lowest log level written.
  public var logLevel: Logger.Level

  /// Port 8081 on all interfaces, the server at 127.0.0.1:8080 with a 5 s deadline, one event
  /// loop, 16 KiB messages, Prometheus and Grafana on localhost's usual ports.
  public static var defaults: EchoGatewayConfiguration {
    EchoGatewayConfiguration(
      host: "0.0.0.0",
      port: 8081,
      channel: GRPCChannelConfiguration(host: "127.0.0.1", port: 8080),
      eventLoopThreads: 1,
      maxMessageBytes: 16 * 1024,
      maxURILength: 64 * 1024,
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
    self.prometheusURL = prometheusURL
    self.grafanaURL = grafanaURL
    self.gracePeriod = gracePeriod
    self.logLevel = logLevel
  }
}
