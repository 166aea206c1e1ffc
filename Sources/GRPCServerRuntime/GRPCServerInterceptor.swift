import GRPCPrometheus
import GRPCWire

/// Hooks the server runs around every call of every method, as a grpc-swift-2
/// `ServerInterceptor` sees them: the metrics recorder is one, a per-call log line another.
/// Each method is bound once, when the server is created, so the per-call hooks cost no lookups.
public protocol GRPCServerInterceptor: Sendable {
  /// The hooks for calls of `method`; called once per served method, and once for the shared
  /// method unknown paths are counted under, when the server is created.
  func bind(to method: GRPCMethod) -> any GRPCServerCallObserver
}

/// What an interceptor sees of each call, on the call's event loop. Every call gets
/// ``started(_:)`` and exactly one ``finished(_:with:after:)``, including calls the runtime
/// rejects (an unknown method, a malformed header) and calls the client cancels.
///
/// The call is the interceptor's to read during these hooks only (method, metadata, peer,
/// deadline); it must not be kept beyond ``finished(_:with:after:)``.
public protocol GRPCServerCallObserver: Sendable {
  /// A request's headers arrived and a call was made for it.
  func started(_ call: ServerCall)
  /// A request message arrived and goes to the handler.
  func receivedMessage(on call: ServerCall)
  /// A response message went to the connection.
  func sentMessage(on call: ServerCall)
  /// The call ended with `status`, `elapsed` after its headers arrived: the handler's status, the
  /// runtime's (a rejection, an expired deadline), or `CANCELLED` / `DEADLINE_EXCEEDED` when the
  /// client ended it first.
  func finished(_ call: ServerCall, with status: GRPCStatus, after elapsed: Duration)
}

/// Several interceptors' hooks, run in order.
struct GRPCServerCallObservers: GRPCServerCallObserver {
  let observers: [any GRPCServerCallObserver]

  /// One observer for `observers`: the only one itself, so the common case costs no loop.
  static func combining(_ observers: [any GRPCServerCallObserver]) -> any GRPCServerCallObserver {
    observers.count == 1 ? observers[0] : GRPCServerCallObservers(observers: observers)
  }

  func started(_ call: ServerCall) {
    for observer in self.observers { observer.started(call) }
  }

  func receivedMessage(on call: ServerCall) {
    for observer in self.observers { observer.receivedMessage(on: call) }
  }

  func sentMessage(on call: ServerCall) {
    for observer in self.observers { observer.sentMessage(on: call) }
  }

  func finished(_ call: ServerCall, with status: GRPCStatus, after elapsed: Duration) {
    for observer in self.observers { observer.finished(call, with: status, after: elapsed) }
  }
}
