import GRPCServerRuntime
import GRPCWire
import NIOCore
import ProtoMessages

/// `grpc.health.v1.Health`: `Check` and `Watch`, answered from a ``HealthStatusStore``.
public enum HealthService {
  /// The service's fully qualified name.
  public static let serviceName = "grpc.health.v1.Health"

  /// The method definitions to serve.
  public static func methods(store: HealthStatusStore) -> [RPCMethodDefinition] {
    [
      .unary(service: Self.serviceName, method: "Check") {
        (request: Grpc_Health_V1_HealthCheckRequest, _) throws(GRPCStatus) in
        guard let status = store.status(of: request.service) else {
          throw GRPCStatus(code: .notFound, message: "unknown service \"\(request.service)\"")
        }
        return Grpc_Health_V1_HealthCheckResponse.with { $0.status = status }
      },
      // The current status at once, then every change until the client leaves; when the server
      // drains, NOT_SERVING and then UNAVAILABLE, so the watch does not hold the drain up.
      .serverStreaming(service: Self.serviceName, method: "Watch") {
        (request: Grpc_Health_V1_HealthCheckRequest, call) async throws(GRPCStatus) in
        for await status in store.updates(of: request.service) {
          try await call.send(Grpc_Health_V1_HealthCheckResponse.with { $0.status = status })
        }
        throw GRPCStatus(code: .unavailable, message: "server is shutting down")
      },
    ]
  }
}
