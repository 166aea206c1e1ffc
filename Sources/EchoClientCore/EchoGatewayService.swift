import ServiceLifecycle

/// Runs an ``EchoGateway`` under swift-service-lifecycle: serves until a graceful shutdown is
/// triggered (SIGTERM or SIGINT in the executable), then drains.
package struct EchoGatewayService: Service {
  private let gateway: EchoGateway

  /// Wraps a gateway that has not been started.
  package init(gateway: EchoGateway) {
    self.gateway = gateway
  }

  /// Starts the gateway, waits for the shutdown signal, drains.
  package func run() async throws {
    _ = try await self.gateway.start()
    try? await gracefulShutdown()
    await self.gateway.shutdown()
  }
}
