import GRPCPrometheus
import GRPCServerRuntime
import GRPCStandardServices
import HTTP1Serving
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ProtoDeclarations
import ProtoMessages

/// The echo server: `proto.EchoService`, health and reflection over gRPC, and `/metrics` and
/// `/healthz` over HTTP/1.1, all on one port, every RPC recorded as go-grpc-prometheus would.
public final class EchoServer: Sendable {
  /// The metrics registry; tests and embedders may add their own families.
  public let registry: PrometheusCollectorRegistry
  /// Health statuses served by `grpc.health.v1.Health` and `/healthz`.
  public let health: HealthStatusStore
  private let configuration: EchoServerConfiguration
  private let group: MultiThreadedEventLoopGroup
  private let server: MultiplexedServer
  private let logger: Logger

  /// Builds the server (nothing listens until ``start()``); every method's metric series exist,
  /// at zero, from here on.
  public init(configuration: EchoServerConfiguration, logger: Logger) throws {
    self.configuration = configuration
    self.logger = logger
    let registry = PrometheusCollectorRegistry()
    self.registry = registry
    let health = HealthStatusStore(services: [EchoService.serviceName])
    self.health = health
    let exposition = MetricsExposition(
      registry: registry, processMetrics: ProcessMetrics(registry: registry))

    var methods = EchoService.methods()
    methods += HealthService.methods(store: health)
    let services = Set(methods.map(\.method.service)).sorted()
    methods += try ReflectionService.methods(services: services)
    try DeclaredMethods(EmbeddedDescriptors.decodedFileDescriptorSet()).check(methods)

    var http = HTTP1Router()
    http.get("/metrics") { head in
      let (contentType, body) = exposition.render(accept: head.headers.first(name: "accept"))
      return HTTP1Response(status: .ok, contentType: contentType, body: ByteBuffer(bytes: body))
    }
    http.get("/healthz") { _ in
      health.status(of: "") == .serving
        ? .text(.ok, "ok\n") : .text(.serviceUnavailable, "draining\n")
    }

    self.group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoopThreads)
    self.server = MultiplexedServer(
      methods: methods,
      http1Router: http,
      interceptors: [ServerMetrics(registry: registry)]
        + (logger.logLevel <= .debug ? [ServerCallLogging(logger: logger)] : []),
      configuration: configuration.runtime,
      group: self.group,
      logger: logger)
  }

  /// Starts listening; returns the bound address.
  public func start() async throws -> SocketAddress {
    let address = try await self.server.start(
      host: self.configuration.host, port: self.configuration.port)
    self.logger.info(
      "EchoServer listening",
      metadata: [
        "address": "\(address)", "threads": "\(self.configuration.eventLoopThreads)",
      ])
    return address
  }

  /// The handler a new connection of this server starts with (services, metrics and limits as
  /// `start()` serves them), for driving a connection without a socket.
  package func makeConnectionHandler() -> any ChannelHandler {
    self.server.makeConnectionHandler()
  }

  /// Reports `NOT_SERVING`, sends GOAWAY, waits up to the grace period for in-flight RPCs, and
  /// stops the event loops.
  public func shutdown() async {
    self.logger.info(
      "EchoServer draining", metadata: ["grace": "\(self.configuration.gracePeriod)"])
    self.health.enterDraining()
    await self.server.shutdown(gracePeriod: self.configuration.gracePeriod)
    try? await self.group.shutdownGracefully()
    self.logger.info("EchoServer stopped")
  }
}
