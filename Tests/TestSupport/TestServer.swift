import EchoServerCore
import Logging
import NIOCore

/// An ``EchoServer`` on 127.0.0.1 and an ephemeral port, for tests that talk to it over sockets.
public struct TestServer: Sendable {
  /// The running server.
  public let server: EchoServer
  /// The address it listens on; always loopback.
  public let host: String
  /// The port it listens on.
  public let port: Int

  /// Starts a server; `configure` adjusts the defaults (the address is always loopback, port 0).
  /// `reusingPort` restarts on the port an earlier test server was given, for recovery tests.
  public static func start(
    isolation: isolated (any Actor)? = #isolation,
    reusingPort: Int = 0,
    _ configure: (inout EchoServerConfiguration) -> Void = { _ in }
  ) async throws -> TestServer {
    var configuration = EchoServerConfiguration.defaults
    configuration.gracePeriod = .seconds(2)
    configuration.eventLoopThreads = TestEventLoops.count
    configure(&configuration)
    // Whatever `configure` did, tests bind loopback and an ephemeral port only.
    configuration.host = "127.0.0.1"
    configuration.port = reusingPort
    var logger = Logger(label: "TestServer")
    logger.logLevel = .warning
    let server = try EchoServer(configuration: configuration, logger: logger)
    let address = try await server.start()
    guard let port = address.port else {
      await server.shutdown()
      throw TestServerError.noPort
    }
    return TestServer(server: server, host: configuration.host, port: port)
  }

  /// Runs `body` against a fresh server and always shuts the server down afterwards.
  public static func with<T>(
    isolation: isolated (any Actor)? = #isolation,
    _ configure: (inout EchoServerConfiguration) -> Void = { _ in },
    _ body: (TestServer) async throws -> sending T
  ) async throws -> sending T {
    let server = try await TestServer.start(isolation: isolation, configure)
    do {
      let result = try await body(server)
      await server.server.shutdown()
      return result
    } catch {
      await server.server.shutdown()
      throw error
    }
  }

  /// The registry's exposition as the server renders it internally, parsed for exact lookups.
  public func exposition() throws -> ParsedExposition {
    try ParsedExposition(self.server.registry.emitToString())
  }

  /// Sends `GET path` over HTTP/1.1 to this server's gRPC port.
  public func get(
    _ path: String,
    headers: [(String, String)] = [],
    timeout: Duration = .seconds(5)
  ) async throws -> HTTP1TestResponse {
    try await HTTP1TestClient.request(
      "GET", path, host: self.host, port: self.port, headers: headers, timeout: timeout)
  }
}

/// Failures of the test harness itself.
public enum TestServerError: Error {
  /// The bound address had no port.
  case noPort
}
