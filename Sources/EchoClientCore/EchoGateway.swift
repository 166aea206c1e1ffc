import GRPCClientChannel
import GRPCPrometheus
import HTTP1Serving
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import Prometheus
import ProtoDeclarations
import ProtoMessages

/// The echo client: an HTTP/1.1 gateway (`/echo`, the page, `/metrics`, probes) in front of an
/// instrumented gRPC channel to the echo server, both on the same event loops.
public final class EchoGateway: Sendable {
  /// The metrics registry: `grpc_client_*`, `http_*` and `process_*`.
  public let registry: PrometheusCollectorRegistry
  /// The gRPC channel to the server.
  public let channel: GRPCChannel
  private let configuration: EchoGatewayConfiguration
  private let group: MultiThreadedEventLoopGroup
  private let responder: GatewayResponder
  private let httpMetrics: HTTPServerMetrics
  private let logger: Logger
  private let listener = NIOLockedValueBox<
    (channel: any Channel, quiescing: ServerQuiescingHelper)?
  >(nil)

  /// Builds the gateway; every `proto.EchoService` method's client series exist, at zero, from
  /// here on. Nothing listens or connects until ``start()``. Throws when the methods it calls are
  /// not declared in `Protos/` as it calls them.
  public init(configuration: EchoGatewayConfiguration, logger: Logger) throws {
    self.configuration = configuration
    self.logger = logger
    let registry = PrometheusCollectorRegistry()
    self.registry = registry
    self.group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoopThreads)
    self.channel = GRPCChannel(
      configuration: configuration.channel,
      group: self.group,
      interceptors: [ClientMetrics(registry: registry)],
      logger: logger)
    self.httpMetrics = HTTPServerMetrics(
      registry: registry, routes: GatewayRoute.paths,
      buckets: GRPCMetricsConfiguration.defaultBuckets)
    self.responder = try GatewayResponder(
      channel: self.channel,
      declared: DeclaredMethods(EmbeddedDescriptors.decodedFileDescriptorSet()),
      exposition: MetricsExposition(
        registry: registry, processMetrics: ProcessMetrics(registry: registry)),
      traffic: TrafficStats(),
      configuration: configuration)
  }

  /// Connects to the server and starts listening; returns the bound HTTP address.
  public func start() async throws -> SocketAddress {
    await self.channel.start()
    let quiescing = ServerQuiescingHelper(group: self.group)
    let limits = GatewayRoute.Limits(
      maxMessageBytes: self.configuration.maxMessageBytes,
      maxURILength: self.configuration.maxURILength)
    // No body the gateway could forward is longer than the longest message, JSON-escaped.
    var bodyLimited = self.configuration.http1
    bodyLimited.maxBodyBytes = min(bodyLimited.maxBodyBytes, limits.maxBodyBytes)
    let http1 = bodyLimited
    let bootstrap = ServerBootstrap.listening(
      group: self.group, quiescing: quiescing,
      maxConnections: self.configuration.maxConnections, logger: self.logger
    ) { channel in
      channel.eventLoop.makeCompletedFuture {
        try channel.pipeline.syncOperations.configureGuardedHTTP1Server(limits: http1)
        try channel.pipeline.syncOperations.addHandler(
          GatewayHTTPHandler(responder: self.responder, metrics: self.httpMetrics, limits: limits)
        )
      }
    }
    let listener = try await bootstrap.bind(
      host: self.configuration.host, port: self.configuration.port
    ).get()
    self.listener.withLockedValue { $0 = (listener, quiescing) }
    guard let address = listener.localAddress else {
      throw ChannelError.unknownLocalAddress
    }
    self.logger.info(
      "EchoClient listening",
      metadata: [
        "address": "\(address)", "server": "\(self.configuration.channel.authority)",
        "threads": "\(self.configuration.eventLoopThreads)",
      ])
    return address
  }

  /// Stops accepting, lets in-flight requests finish (up to the grace period), closes the gRPC
  /// channel and stops the event loops.
  public func shutdown() async {
    if let (_, quiescing) = self.listener.withLockedValue({ $0.take() }) {
      let drained = self.group.next().makePromise(of: Void.self)
      quiescing.initiateShutdown(promise: drained)
      let timeout = drained.futureResult.eventLoop.scheduleTask(
        in: TimeAmount(self.configuration.gracePeriod)
      ) {
        drained.succeed()
      }
      try? await drained.futureResult.get()
      timeout.cancel()
    }
    await self.channel.shutdown()
    try? await self.group.shutdownGracefully()
    self.logger.info("EchoClient stopped")
  }
}
