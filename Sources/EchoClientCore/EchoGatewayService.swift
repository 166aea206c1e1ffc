import ServiceLifecycle

/// Runs an ``EchoGateway`` under swift-service-lifecycle: serves until a graceful shutdown is
/// triggered (SIGTERM or SIGINT in the executable), then drains.
public struct EchoGatewayService: Service {
  private let gateway: EchoGateway

  /// Wraps a gateway that has not been started.
  public init(gateway: EchoGateway) {
    self.gateway = gateway
  }

  /// Starts the gateway, waits for the shutdown signal, drains.
  public func run() async throws {
    _ = try await self.gateway.start()
    try? await gracefulShutdown()
    await self.gateway.shutdown()
  }
}
