import GRPCCore
import GRPCPrometheus
import GRPCPrometheusInterceptors
import Prometheus
import ProtoMessages
import ProtoStubs
import Testing

/// A transport that can never open a stream, like a client whose server is down and whose
/// `waitForReady` is off: GRPCCore throws before any client interceptor runs.
struct UnreachableTransport: ClientTransport {
  typealias Bytes = [UInt8]

  var retryThrottle: RetryThrottle? { nil }

  func connect() async throws {}

  func beginGracefulShutdown() {}

  func withStream<T: Sendable>(
    descriptor: MethodDescriptor,
    options: CallOptions,
    _ closure: (RPCStream<Inbound, Outbound>, ClientContext) async throws -> T
  ) async throws -> T {
    throw RPCError(code: .unavailable, message: "connection refused")
  }

  func config(forMethod descriptor: MethodDescriptor) -> MethodConfig? { nil }
}

@Suite struct CallSiteTests {
  let registry = PrometheusCollectorRegistry()

  @Test func failuresBeforeTheInterceptorAreCountedOnlyAtTheCallSite() async throws {
    let interceptor = ClientMetricsInterceptor(metrics: ClientMetrics(registry: self.registry))
    interceptor.register(Proto_EchoService.Method.descriptors)
    let client = GRPCClient(transport: UnreachableTransport(), interceptors: [interceptor])
    let echo = Proto_EchoService.Client(wrapping: client)
    let reader = MetricsReader(registry: self.registry)

    // Bare call: GRPCCore never runs the interceptor, so nothing is recorded.
    await #expect(throws: RPCError.self) { try await echo.echoService(.with { $0.message = "a" }) }
    #expect(reader.value("grpc_client_started_total", "EchoService", "unary") == 0)

    // Wrapped call: counted once as started and Unavailable.
    let descriptor = Proto_EchoService.Method.EchoService.descriptor
    await #expect(throws: RPCError.self) {
      try await interceptor.recordingCall(to: descriptor) {
        try await echo.echoService(.with { $0.message = "b" })
      }
    }
    #expect(reader.value("grpc_client_started_total", "EchoService", "unary") == 1)
    #expect(reader.handled("client", "EchoService", "unary") == ["Unavailable": 1])
  }
}
