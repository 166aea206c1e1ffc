import ArgumentParser
import EchoClientCore
import GRPCClientChannel
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

/// `EchoClient [serve]` runs the HTTP gateway; `EchoClient healthcheck` probes one.
@main
struct EchoClientCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "EchoClient",
    abstract: "HTTP gateway to the gRPC echo server, with a page and Prometheus /metrics.",
    subcommands: [Serve.self, HealthCheck.self],
    defaultSubcommand: Serve.self)
}

/// The HTTP port from `--port`, else the original's `GRPC_CLIENT_PORT`, else 8081.
func defaultPort() -> Int {
  ProcessInfo.processInfo.environment["GRPC_CLIENT_PORT"].flatMap(Int.init)
    ?? EchoGatewayConfiguration.defaults.port
}

struct Serve: AsyncParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Run the gateway (the default).")

  @Option(help: "Address to listen on.")
  var host = EchoGatewayConfiguration.defaults.host

  @Option(help: "HTTP port (default: $GRPC_CLIENT_PORT or 8081).")
  var port: Int?

  @Option(
    help: """
      gRPC server as host:port, or several separated by commas (default: \
      $GRPC_SERVER_HOST:$GRPC_SERVER_PORT or 127.0.0.1:8080).
      """)
  var server: String?

  @Option(help: "Deadline of each gRPC call, in seconds.")
  var deadline = EchoGatewayConfiguration.defaults.channel.defaultDeadline.seconds

  @Option(
    help: """
      Seconds between resolutions of the server names, which let replicas join and leave \
      (0: resolve only when a connection is lost).
      """)
  var resolveInterval = EchoGatewayConfiguration.defaults.channel.resolveInterval?.seconds ?? 0

  @Option(help: "Event-loop threads; the default is one per core this process may use.")
  var threads = EchoGatewayConfiguration.defaults.eventLoopThreads

  @Option(help: "Prometheus URL linked from the page.")
  var prometheusURL = EchoGatewayConfiguration.defaults.prometheusURL

  @Option(help: "Grafana URL linked from the page.")
  var grafanaURL = EchoGatewayConfiguration.defaults.grafanaURL

  @Option(help: "Longest message forwarded, in bytes.")
  var maxMessageBytes = EchoGatewayConfiguration.defaults.maxMessageBytes

  @Option(help: "Seconds to wait for in-flight requests on SIGTERM/SIGINT.")
  var gracePeriod = EchoGatewayConfiguration.defaults.gracePeriod.seconds

  @Option(
    help:
      "Seconds a keep-alive connection may wait for its next request, or leave its responses unread, before closing."
  )
  var idleTimeout = EchoGatewayConfiguration.defaults.http1.idleTimeout.seconds

  @OptionGroup var listener: ListenerOptions

  @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
  var logLevel = EchoGatewayConfiguration.defaults.logLevel.rawValue

  func validate() throws {
    guard (0...65535).contains(self.port ?? defaultPort()) else {
      throw ValidationError("port must be between 0 and 65535")
    }
    guard (try? self.serverTargets()) != nil else {
      throw ValidationError("--server must be host:port with a port between 1 and 65535")
    }
    guard self.deadline > 0 else { throw ValidationError("--deadline must be above 0") }
    guard self.resolveInterval >= 0 else {
      throw ValidationError("--resolve-interval must be 0 or more")
    }
    guard self.threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    guard self.idleTimeout > 0 else { throw ValidationError("--idle-timeout must be positive") }
    guard Logger.Level(rawValue: self.logLevel) != nil else {
      throw ValidationError("unknown log level \"\(self.logLevel)\"")
    }
  }

  /// `--server`, else the original's `GRPC_SERVER_HOST`/`GRPC_SERVER_PORT`, else the default.
  func serverTargets() throws -> [GRPCChannelConfiguration.Target] {
    let environment = ProcessInfo.processInfo.environment
    guard let server = self.server else {
      let host = environment["GRPC_SERVER_HOST"] ?? "127.0.0.1"
      return [try Self.target(host + ":" + (environment["GRPC_SERVER_PORT"] ?? "8080"))]
    }
    return try server.split(separator: ",").map { try Self.target(String($0)) }
  }

  private static func target(_ text: String) throws -> GRPCChannelConfiguration.Target {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
      (1...65535).contains(port)
    else { throw ValidationError("\"\(text)\" is not host:port") }
    var host = text[..<colon]  // "[::1]:8080": the brackets (and stray spaces) are not the host
    while let first = host.first, "[] ".contains(first) { host.removeFirst() }
    while let last = host.last, "[] ".contains(last) { host.removeLast() }
    return GRPCChannelConfiguration.Target(
      host: host.isEmpty ? "127.0.0.1" : String(host), port: port)
  }

  func run() async throws {
    var configuration = EchoGatewayConfiguration.defaults
    configuration.host = self.host
    configuration.port = self.port ?? defaultPort()
    configuration.channel.targets = try self.serverTargets()
    configuration.channel.defaultDeadline = .seconds(self.deadline)
    configuration.channel.resolveInterval =
      self.resolveInterval > 0 ? .seconds(self.resolveInterval) : nil
    configuration.eventLoopThreads = self.threads
    configuration.prometheusURL = self.prometheusURL
    configuration.grafanaURL = self.grafanaURL
    configuration.maxMessageBytes = self.maxMessageBytes
    configuration.gracePeriod = .seconds(self.gracePeriod)
    configuration.http1 = self.listener.applied(to: configuration.http1)
    configuration.http1.idleTimeout = TimeAmount(seconds: self.idleTimeout)
    configuration.maxConnections = self.listener.maxConnections
    configuration.logLevel = Logger.Level(rawValue: self.logLevel) ?? configuration.logLevel
    var logger = Logger(label: "EchoClient")
    logger.logLevel = configuration.logLevel
    let gateway = try EchoGateway(configuration: configuration, logger: logger)
    let group = ServiceGroup(
      services: [EchoGatewayService(gateway: gateway)],
      gracefulShutdownSignals: [.sigterm, .sigint],
      logger: logger)
    try await group.run()
  }
}

struct HealthCheck: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "healthcheck",
    abstract: "Probe a running gateway's /healthz; exit 0 when it answers.")

  @Option(help: "Gateway address.")
  var host = "127.0.0.1"

  @Option(help: "Gateway port (default: $GRPC_CLIENT_PORT or 8081).")
  var port: Int?

  func run() async throws {
    let result = await HealthProbe.check(host: self.host, port: self.port ?? defaultPort())
    print(result.summary)
    if !result.isHealthy { throw ExitCode.failure }
  }
}
