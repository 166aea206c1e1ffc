import GRPCWire
import NIOCore

/// Drives a call's handler as request messages arrive, enforcing the method's message cardinality.
enum CallDispatch {
  /// Unary: holds the single request until the client half-closes, then runs the handler inline.
  case unary(@Sendable (ByteBuffer, ServerCall) throws(GRPCStatus) -> Void, request: ByteBuffer?)
  case stream(any RPCStreamHandler)
  /// The call was rejected before a handler was made, or its unary handler has run.
  case none

  init(_ handler: RPCMethodDefinition.Handler?) {
    switch handler {
    case .unary(let body): self = .unary(body, request: nil)
    case .stream(let makeHandler): self = .stream(makeHandler())
    case nil: self = .none
    }
  }

  mutating func receive(_ message: ByteBuffer, on call: ServerCall) throws(GRPCStatus) {
    switch self {
    case .unary(let body, let request):
      guard request == nil else {
        throw GRPCStatus(
          code: .internalError,
          message: "unary method \(call.method.method) received more than one request message")
      }
      self = .unary(body, request: message)
    case .stream(let handler):
      try handler.receive(message, on: call)
    case .none:
      break
    }
  }

  mutating func endOfRequests(on call: ServerCall) throws(GRPCStatus) {
    switch self {
    case .unary(let body, let request):
      guard let request else {
        throw GRPCStatus(
          code: .internalError,
          message: "unary method \(call.method.method) received no request message")
      }
      // Let go of the request (a slice of the connection's receive buffer) before the call
      // object is released, which happens only once its stream has closed.
      self = .none
      try body(request, call)
      call.finish(.ok)
    case .stream(let handler):
      try handler.endOfRequests(on: call)
    case .none:
      break
    }
  }

  func cancel(_ call: ServerCall) {
    if case .stream(let handler) = self { handler.cancel(call) }
  }
}
