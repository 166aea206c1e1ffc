import GRPCPrometheus
import GRPCWire
import NIOCore

/// Drives a call's handler as request messages arrive, enforcing the method's message cardinality.
enum CallDispatch {
  /// Unary: holds the single request until the client half-closes, then runs the handler inline.
  case unary(@Sendable (ByteBuffer, ServerCall) throws(GRPCStatus) -> Void, request: ByteBuffer?)
  /// An async handler: holds the single request until the client half-closes, then starts it.
  case task(
    @Sendable (ByteBuffer, AsyncServerCall) async throws(GRPCStatus) -> Void, request: ByteBuffer?)
  /// An async handler's task, cancelled if the call ends before it does.
  case running(Task<Void, Never>)
  case stream(any RPCStreamHandler)
  /// The call was rejected before a handler was made, or its unary handler has run.
  case none

  init(_ handler: RPCMethodDefinition.Handler?) {
    switch handler {
    case .unary(let body): self = .unary(body, request: nil)
    case .task(let body): self = .task(body, request: nil)
    case .stream(let makeHandler): self = .stream(makeHandler())
    case nil: self = .none
    }
  }

  mutating func receive(_ message: ByteBuffer, on call: ServerCall) throws(GRPCStatus) {
    switch self {
    case .unary(let body, let request):
      guard request == nil else { throw Self.extraRequest(on: call) }
      self = .unary(body, request: message)
    case .task(let body, let request):
      guard request == nil else { throw Self.extraRequest(on: call) }
      self = .task(body, request: message)
    case .stream(let handler):
      try handler.receive(message, on: call)
    case .running, .none:
      break
    }
  }

  mutating func endOfRequests(on call: ServerCall) throws(GRPCStatus) {
    switch self {
    case .unary(let body, let request):
      guard let request else { throw Self.missingRequest(on: call) }
      // Let go of the request (a slice of the connection's receive buffer) before the call
      // object is released, which happens only once its stream has closed.
      self = .none
      try body(request, call)
      call.finish(.ok)
    case .task(let body, let request):
      guard let request else { throw Self.missingRequest(on: call) }
      // The task gets a copy: a slice would pin the connection's receive buffer while it runs.
      let copy = ByteBuffer(bytes: request.readableBytesView)
      let asyncCall = AsyncServerCall(call)
      self = .running(
        Task {
          do throws(GRPCStatus) {
            try await body(copy, asyncCall)
            asyncCall.finish(.ok)
          } catch {
            asyncCall.finish(error)
          }
        })
    case .stream(let handler):
      try handler.endOfRequests(on: call)
    case .running, .none:
      break
    }
  }

  func cancel(_ call: ServerCall) {
    switch self {
    case .stream(let handler): handler.cancel(call)
    case .running(let task): task.cancel()
    case .unary, .task, .none: break
    }
  }

  /// The status of a call that sent a second request to a method that takes one.
  static func extraRequest(on call: ServerCall) -> GRPCStatus {
    GRPCStatus(
      code: .internalError,
      message:
        "\(call.method.kindName) \(call.method.method) received more than one request message")
  }

  /// The status of a call that ended its requests without the one its method takes.
  static func missingRequest(on call: ServerCall) -> GRPCStatus {
    GRPCStatus(
      code: .internalError,
      message: "\(call.method.kindName) \(call.method.method) received no request message")
  }
}

extension GRPCMethod {
  /// How error messages name the method's kind.
  fileprivate var kindName: String {
    switch self.type {
    case .unary: "unary method"
    case .clientStream: "client-streaming method"
    case .serverStream: "server-streaming method"
    case .bidiStream: "bidirectional-streaming method"
    }
  }
}
