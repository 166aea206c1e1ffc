import GRPCPrometheus
import GRPCWire

/// Hooks the channel runs around every call of every method, as a gRPC client interceptor
/// would: the metrics recorder is one. Each method is bound once, when the application
/// registers it, so the per-call hooks cost no lookups.
public protocol GRPCClientInterceptor: Sendable {
  /// The hooks for calls of `method`; called once per method, from ``GRPCChannel/method(_:)``.
  func bind(to method: GRPCMethod) -> any GRPCClientCallObserver
}

/// What an interceptor sees of each call. Every call gets ``started()`` and exactly one
/// ``finished(_:after:)``, including calls that never found a connection.
public protocol GRPCClientCallObserver: Sendable {
  /// The application started a call.
  func started()
  /// A request message was handed to the connection.
  func sentMessage()
  /// A response message arrived.
  func receivedMessage()
  /// The call ended with `code`, `elapsed` after it started.
  func finished(_ code: GRPCStatus.Code, after elapsed: Duration)
}
