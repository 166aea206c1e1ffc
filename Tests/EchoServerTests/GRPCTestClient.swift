import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GRPCProtobuf
import ProtoMessages
import ProtoStubs
import TestSupport

/// grpc-swift-2's own HTTP/2 client transport: an implementation independent of the server's.
typealias PeerTransport = HTTP2ClientTransport.Posix
typealias EchoClient = Proto_EchoService.Client<PeerTransport>
typealias HealthClient = Grpc_Health_V1_Health.Client<PeerTransport>

extension CallOptions {
  /// Every test call carries a deadline, so a server that never answers fails the test rather
  /// than hanging it. It is generous: the suites run in parallel on two cores, and under
  /// AddressSanitizer the tests that compute for a second or two hold both of the concurrency
  /// pool's threads while grpc-swift-2's calls wait for one.
  static func test(
    timeout: Duration = .seconds(15), compression: CompressionAlgorithm? = nil
  )
    -> CallOptions
  {
    var options = CallOptions.defaults
    options.timeout = timeout
    options.compression = compression
    return options
  }
}

/// Runs `body` with a grpc-swift-2 client connected to `server`, bounded by `timeout`; the
/// client's connections are shut down gracefully when `body` returns.
func withGRPCTestClient<T: Sendable>(
  _ server: TestServer,
  compression: CompressionAlgorithmSet = .none,
  timeout: Duration = .seconds(20),
  _ body: @escaping @Sendable (GRPCClient<PeerTransport>) async throws -> T
) async throws -> T {
  try await withTimeout(timeout, "gRPC client session") {
    let transport = try HTTP2ClientTransport.Posix(
      target: .ipv4(address: server.host, port: server.port),
      transportSecurity: .plaintext,
      config: .defaults { config in
        config.compression.enabledAlgorithms = compression
      })
    return try await withGRPCClient(transport: transport) { client in
      try await body(client)
    }
  }
}

/// The same, with the generated `proto.EchoService` stub.
func withEchoClient<T: Sendable>(
  _ server: TestServer,
  compression: CompressionAlgorithmSet = .none,
  _ body: @escaping @Sendable (EchoClient) async throws -> T
) async throws -> T {
  try await withGRPCTestClient(server, compression: compression) { client in
    try await body(EchoClient(wrapping: client))
  }
}

extension Proto_Message {
  init(_ text: String) {
    self.init()
    self.message = text
  }
}

/// Collects a streaming response's messages.
func collect(_ response: StreamingClientResponse<Proto_Message>) async throws -> [String] {
  var replies: [String] = []
  for try await reply in response.messages { replies.append(reply.message) }
  return replies
}

extension Dictionary where Key == String, Value == String {
  /// These labels plus `other` (which wins on a clash).
  func adding(_ other: [String: String]) -> [String: String] {
    self.merging(other) { _, new in new }
  }
}
