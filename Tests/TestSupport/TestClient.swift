import EchoClientCore
import GRPCClientChannel
import Logging
import NIOCore

/// An ``EchoGateway`` on 127.0.0.1 and an ephemeral port, pointed at a server, for tests that
/// talk to it over sockets.
public struct TestClient: Sendable {
  /// The running gateway.
  public let gateway: EchoGateway
  /// The port its HTTP server listens on (loopback).
  public let port: Int

  /// Starts a gateway calling `127.0.0.1:serverPort` (and any `otherServerPorts`, round
  /// robin); `configure` adjusts the defaults (the listening address is always loopback, port 0).
  public static func start(
    serverPort: Int,
    otherServerPorts: [Int] = [],
    _ configure: (inout EchoGatewayConfiguration) -> Void = { _ in }
  ) async throws -> TestClient {
    var configuration = EchoGatewayConfiguration.defaults
    configuration.channel.targets = ([serverPort] + otherServerPorts).map {
      GRPCChannelConfiguration.Target(host: "127.0.0.1", port: $0)
    }
    configuration.gracePeriod = .seconds(2)
    configuration.eventLoopThreads = TestEventLoops.count
    configure(&configuration)
    configuration.host = "127.0.0.1"
    configuration.port = 0
    var logger = Logger(label: "TestClient")
    logger.logLevel = .warning
    let gateway = try EchoGateway(configuration: configuration, logger: logger)
    let address = try await gateway.start()
    guard let port = address.port else {
      await gateway.shutdown()
      throw TestServerError.noPort
    }
    return TestClient(gateway: gateway, port: port)
  }

  /// Runs `body` against a fresh gateway and always shuts it down afterwards.
  public static func with<T: Sendable>(
    serverPort: Int,
    otherServerPorts: [Int] = [],
    _ configure: (inout EchoGatewayConfiguration) -> Void = { _ in },
    _ body: (TestClient) async throws -> T
  ) async throws -> T {
    let client = try await TestClient.start(
      serverPort: serverPort, otherServerPorts: otherServerPorts, configure)
    do {
      let result = try await body(client)
      await client.gateway.shutdown()
      return result
    } catch {
      await client.gateway.shutdown()
      throw error
    }
  }

  /// Sends `GET path` to the gateway.
  public func get(
    _ path: String, headers: [(String, String)] = []
  ) async throws -> HTTP1TestResponse {
    try await self.request("GET", path, headers: headers)
  }

  /// Sends one HTTP/1.1 request to the gateway.
  public func request(
    _ method: String,
    _ path: String,
    headers: [(String, String)] = [],
    body: String? = nil
  ) async throws -> HTTP1TestResponse {
    var headers = headers
    if let body { headers.append(("Content-Length", String(body.utf8.count))) }
    return try await HTTP1TestClient.request(
      method, path, host: "127.0.0.1", port: self.port, headers: headers, body: body ?? "")
  }

  /// The gateway's registry, parsed.
  public func exposition() throws -> ParsedExposition {
    try ParsedExposition(self.gateway.registry.emitToString())
  }
}
