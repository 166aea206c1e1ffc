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
      RPCMethodDefinition(
        method: .init(service: Self.serviceName, method: "Watch", type: .serverStream),
        handler: .stream { HealthWatchHandler(store: store) }),
    ]
  }
}

/// One `Watch` call: the current status at once, then every change until the client leaves.
private final class HealthWatchHandler: RPCStreamHandler {
  private let store: HealthStatusStore
  private var watcherID: Int?
  private var hasRequest = false

  init(store: HealthStatusStore) {
    self.store = store
  }

  func receive(_ message: ByteBuffer, on call: ServerCall) throws(GRPCStatus) {
    guard !self.hasRequest else {
      throw GRPCStatus(code: .internalError, message: "Watch takes exactly one request")
    }
    self.hasRequest = true
    let request: Grpc_Health_V1_HealthCheckRequest
    do {
      request = try Grpc_Health_V1_HealthCheckRequest(serializedBytes: message.readableBytesSpan)
    } catch {
      throw GRPCStatus(code: .internalError, message: "could not decode the request: \(error)")
    }
    let boundCall = NIOLoopBound(call, eventLoop: call.eventLoop)
    let eventLoop = call.eventLoop
    let (id, current) = self.store.watch(request.service) { status, isFinal in
      eventLoop.execute {
        boundCall.value.send(Grpc_Health_V1_HealthCheckResponse.with { $0.status = status })
        if isFinal {
          boundCall.value.finish(GRPCStatus(code: .unavailable, message: "server is shutting down"))
        }
      }
    }
    self.watcherID = id
    call.send(Grpc_Health_V1_HealthCheckResponse.with { $0.status = current })
  }

  func endOfRequests(on call: ServerCall) throws(GRPCStatus) {
    guard self.hasRequest else {
      throw GRPCStatus(code: .internalError, message: "Watch received no request message")
    }
    // The stream stays open: the client hears of changes until it cancels.
  }

  func cancel(_ call: ServerCall) {
    if let id = self.watcherID { self.store.unwatch(id) }
    self.watcherID = nil
  }
}
