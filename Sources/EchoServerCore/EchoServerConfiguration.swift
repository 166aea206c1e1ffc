import GRPCServerRuntime
import Logging

/// Everything the echo server can be told, from flags or the original's environment variables.
package struct EchoServerConfiguration: Sendable {
  /// The address to listen on.
  package var host: String
  /// The port for gRPC and `/metrics` alike (0 picks a free one).
  package var port: Int
  /// Event-loop threads; one serves a 2-core machine best (README, Performance).
  package var eventLoopThreads: Int
  /// How long a shutdown waits for in-flight RPCs before closing their connections.
  package var gracePeriod: Duration
  /// Limits and HTTP/2 settings.
  package var runtime: ServerRuntimeConfiguration
  /// The lowest log level written.
  package var logLevel: Logger.Level

  /// Port 8080 on all interfaces, one event loop, 10 s grace, runtime defaults, `info` logs.
  package static var defaults: EchoServerConfiguration {
    EchoServerConfiguration(
      host: "0.0.0.0", port: 8080, eventLoopThreads: 1, gracePeriod: .seconds(10),
      runtime: .defaults, logLevel: .info)
  }

  /// Creates a configuration; ``defaults`` is the usual start.
  package init(
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
