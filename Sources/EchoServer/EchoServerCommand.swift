import ArgumentParser
import EchoServerCore
import HTTP1Serving
import ListenerOptions
import Logging
import NIOCore
import ServiceLifecycle

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `EchoServer [serve]` runs the server; `EchoServer healthcheck` probes one.
@main
struct EchoServerCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "EchoServer",
    abstract: "gRPC echo server with Prometheus /metrics on the same port.",
    subcommands: [Serve.self, HealthCheck.self],
    defaultSubcommand: Serve.self)
}

/// The port from `--port`, else the original's `GRPC_SERVER_PORT`, else the default.
func defaultPort() -> Int {
  ProcessInfo.processInfo.environment["GRPC_SERVER_PORT"].flatMap(Int.init)
    ?? EchoServerConfiguration.defaults.port
}

struct Serve: AsyncParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Run the server (the default).")

  @Option(help: "Address to listen on.")
  var host = EchoServerConfiguration.defaults.host

  @Option(help: "Port for gRPC and /metrics (default: $GRPC_SERVER_PORT or 8080).")
  var port: Int?

  @Option(help: "Event-loop threads; the default is one per core this process may use.")
  var threads = EchoServerConfiguration.defaults.eventLoopThreads

  @Option(help: "Seconds to wait for in-flight RPCs on SIGTERM/SIGINT.")
  var gracePeriod = EchoServerConfiguration.defaults.gracePeriod.seconds

  @Option(help: "Largest request message in bytes, after decompression.")
  var maxReceiveMessageSize = EchoServerConfiguration.defaults.runtime.maxReceiveMessageSize

  @Option(help: "HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection.")
  var maxConcurrentStreams = EchoServerConfiguration.defaults.runtime.http2Settings
    .maxConcurrentStreams

  @Option(help: "Seconds of client silence before a keepalive PING (0 disables).")
  var keepaliveInterval = EchoServerConfiguration.defaults.runtime.keepaliveInterval?.seconds ?? 0

  @Option(help: "Seconds a keepalive PING may go unanswered before the connection closes.")
  var keepaliveTimeout = EchoServerConfiguration.defaults.runtime.keepaliveTimeout.seconds

  @Option(
    help: """
      Seconds a connection may sit unused (HTTP/2: no RPC, nothing received; HTTP/1.1: between       requests, or with its responses unread) before closing.
      """)
  var idleTimeout = EchoServerConfiguration.defaults.runtime.idleTimeout.seconds

  @OptionGroup var listener: ListenerOptions

  @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
  var logLevel = EchoServerConfiguration.defaults.logLevel.rawValue

  func validate() throws {
    guard (0...65535).contains(self.port ?? defaultPort()) else {
      throw ValidationError("port must be between 0 and 65535")
    }
    guard self.threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    guard self.idleTimeout > 0 else { throw ValidationError("--idle-timeout must be positive") }
    guard Logger.Level(rawValue: self.logLevel) != nil else {
      throw ValidationError("unknown log level \"\(self.logLevel)\"")
    }
  }

  func run() async throws {
    var configuration = EchoServerConfiguration.defaults
    configuration.host = self.host
    configuration.port = self.port ?? defaultPort()
    configuration.eventLoopThreads = self.threads
    configuration.gracePeriod = .seconds(self.gracePeriod)
    configuration.runtime.maxReceiveMessageSize = self.maxReceiveMessageSize
    configuration.runtime.http2Settings.maxConcurrentStreams = self.maxConcurrentStreams
    configuration.runtime.keepaliveInterval =
      self.keepaliveInterval > 0 ? TimeAmount(seconds: self.keepaliveInterval) : nil
    configuration.runtime.keepaliveTimeout = TimeAmount(seconds: self.keepaliveTimeout)
    configuration.runtime.idleTimeout = TimeAmount(seconds: self.idleTimeout)
    configuration.runtime.http1 = self.listener.applied(to: configuration.runtime.http1)
    configuration.runtime.http1.idleTimeout = configuration.runtime.idleTimeout
    configuration.runtime.maxConnections = self.listener.maxConnections
    configuration.logLevel = Logger.Level(rawValue: self.logLevel) ?? configuration.logLevel

    var logger = Logger(label: "EchoServer")
    logger.logLevel = configuration.logLevel
    let server = try EchoServer(configuration: configuration, logger: logger)
    let group = ServiceGroup(
      services: [EchoServerService(server: server)],
      gracefulShutdownSignals: [.sigterm, .sigint],
      logger: logger)
    try await group.run()
  }
}

struct HealthCheck: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "healthcheck",
    abstract: "Probe a running server's /healthz; exit 0 when it is serving.")

  @Option(help: "Server address.")
  var host = "127.0.0.1"

  @Option(help: "Server port (default: $GRPC_SERVER_PORT or 8080).")
  var port: Int?

  func run() async throws {
    let result = await HealthProbe.check(host: self.host, port: self.port ?? defaultPort())
    print(result.summary)
    if !result.isHealthy { throw ExitCode.failure }
  }
}
