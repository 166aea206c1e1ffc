import GRPCServerRuntime
import HTTP1Serving
import Logging

/// Everything the echo server can be told, from flags or the original's environment variables.
public struct EchoServerConfiguration: Sendable {
  /// The address to listen on.
  public var host: String
  /// The port for gRPC and `/metrics` alike (0 picks a free one).
  public var port: Int
  /// Event-loop threads: by default one per core the process may use (``UsableCores``).
  public var eventLoopThreads: Int
  /// How long a shutdown waits for in-flight RPCs before closing their connections.
  public var gracePeriod: Duration
  /// Limits and HTTP/2 settings.
  public var runtime: ServerRuntimeConfiguration
  /// The lowest log level written.
  public var logLevel: Logger.Level

  /// Port 8080 on all interfaces, an event loop per usable core, 10 s grace, runtime defaults,
  /// `info` logs.
  public static var defaults: EchoServerConfiguration {
    EchoServerConfiguration(
      host: "0.0.0.0", port: 8080, eventLoopThreads: UsableCores.count, gracePeriod: .seconds(10),
      runtime: .defaults, logLevel: .info)
  }

  /// Creates a configuration; ``defaults`` is the usual start.
  public init(
    host: String, port: Int, eventLoopThreads: Int, gracePeriod: Duration,
    runtime: ServerRuntimeConfiguration, logLevel: Logger.Level
  ) {
    self.host = host
    self.port = port
    self.eventLoopThreads = eventLoopThreads
    self.gracePeriod = gracePeriod
    self.runtime = runtime
    self.logLevel = logLevel
  }
}
