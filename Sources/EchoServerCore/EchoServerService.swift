import ServiceLifecycle

/// Runs an ``EchoServer`` under swift-service-lifecycle: serves until a graceful shutdown is
/// triggered (SIGTERM or SIGINT in the executable), then drains.
public struct EchoServerService: Service {
  private let server: EchoServer

  /// Wraps a server that has not been started.
  public init(server: EchoServer) {
    self.server = server
  }

  /// Starts the server, waits for the shutdown signal, drains.
  public func run() async throws {
    _ = try await self.server.start()
    try? await gracefulShutdown()
    await self.server.shutdown()
  }
}
