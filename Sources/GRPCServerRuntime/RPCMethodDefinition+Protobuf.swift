import GRPCPrometheus
import GRPCWire
import NIOCore
import SwiftProtobuf

extension RPCMethodDefinition {
  /// A unary method whose handler runs synchronously on the event loop.
  public static func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
    service: String,
    method: String,
    _ body: @escaping @Sendable (Request, ServerCall) throws(GRPCStatus) -> Response
  ) -> RPCMethodDefinition {
    RPCMethodDefinition(
      method: GRPCMethod(service: service, method: method, type: .unary),
      handler: .unary { (payload, call) throws(GRPCStatus) in
        call.send(try body(Request(requestPayload: payload), call))
      },
      messageTypes: (Request.protoMessageName, Response.protoMessageName))
  }

  /// A server-streaming method: the handler returns the replies to the one request as a
  /// sequence, which the runtime sends as the client reads them (taking the next reply only while
  /// the call ``ServerCall/isReady``), so a long or lazy sequence costs no more memory than the
  /// client's flow-control window. The call finishes with OK after the last reply (unless the
  /// handler finished it).
  public static func serverStreaming<
    Request: SwiftProtobuf.Message, Replies: Sequence & SendableMetatype
  >(
    service: String,
    method: String,
    _ body: @escaping @Sendable (Request, ServerCall) throws(GRPCStatus) -> Replies
  ) -> RPCMethodDefinition where Replies.Element: SwiftProtobuf.Message {
    RPCMethodDefinition(
      method: GRPCMethod(service: service, method: method, type: .serverStream),
      handler: .stream { SingleRequestHandler<Request, Replies>(body) },
      messageTypes: (Request.protoMessageName, Replies.Element.protoMessageName))
  }

  /// A client-streaming method: `next` folds each request into a state made by `initial`, and
  /// `finish` turns the state into the one reply when the client half-closes.
  public static func clientStreaming<
    Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message, State
  >(
    service: String,
    method: String,
    initial: @escaping @Sendable () -> State,
    next: @escaping @Sendable (inout State, Request) throws(GRPCStatus) -> Void,
    finish: @escaping @Sendable (State, ServerCall) throws(GRPCStatus) -> Response
  ) -> RPCMethodDefinition {
    RPCMethodDefinition(
      method: GRPCMethod(service: service, method: method, type: .clientStream),
      handler: .stream { FoldingHandler(state: initial(), next: next, finish: finish) },
      messageTypes: (Request.protoMessageName, Response.protoMessageName))
  }

  /// A bidirectional-streaming method whose handler reacts to each request as it arrives; the
  /// call finishes with OK when the client half-closes (unless the handler finished it).
  public static func bidirectionalStreaming<Request: SwiftProtobuf.Message>(
    service: String,
    method: String,
    _ onMessage: @escaping @Sendable (Request, ServerCall) throws(GRPCStatus) -> Void
  ) -> RPCMethodDefinition {
    RPCMethodDefinition(
      method: GRPCMethod(service: service, method: method, type: .bidiStream),
      handler: .stream { EachRequestHandler<Request>(onMessage) },
      messageTypes: (Request.protoMessageName, nil))
  }
}

/// Server streaming: exactly one request, then the handler's replies, sent as the client takes
/// them.
private final class SingleRequestHandler<
  Request: SwiftProtobuf.Message, Replies: Sequence & SendableMetatype
>:
  RPCStreamHandler
where Replies.Element: SwiftProtobuf.Message {
  private let body: @Sendable (Request, ServerCall) throws(GRPCStatus) -> Replies
  private var request: Request?
  /// The replies not sent yet, once the handler has run.
  private var replies: Replies.Iterator?

  init(_ body: @escaping @Sendable (Request, ServerCall) throws(GRPCStatus) -> Replies) {
    self.body = body
  }

  func receive(_ message: ByteBuffer, on call: ServerCall) throws(GRPCStatus) {
    guard self.request == nil else { throw CallDispatch.extraRequest(on: call) }
    self.request = try Request(requestPayload: message)
  }

  func endOfRequests(on call: ServerCall) throws(GRPCStatus) {
    guard let request = self.request.take() else { throw CallDispatch.missingRequest(on: call) }
    self.replies = try self.body(request, call).makeIterator()
    self.sendReplies(on: call)
  }

  /// Sends replies while the call is ready, then continues when it is ready again; finishes
  /// with OK after the last one.
  private func sendReplies(on call: ServerCall) {
    while call.isReady {
      guard let reply = self.replies?.next() else {
        self.replies = nil
        call.finish(.ok)
        return
      }
      call.send(reply)
    }
    guard !call.isFinished else {
      self.replies = nil
      return
    }
    call.whenReady { self.sendReplies(on: call) }
  }
}

/// Client streaming: fold every request, reply once at the end.
private final class FoldingHandler<Request: SwiftProtobuf.Message, Response, State>:
  RPCStreamHandler
where Response: SwiftProtobuf.Message {
  private var state: State
  private let next: @Sendable (inout State, Request) throws(GRPCStatus) -> Void
  private let finish: @Sendable (State, ServerCall) throws(GRPCStatus) -> Response

  init(
    state: State,
    next: @escaping @Sendable (inout State, Request) throws(GRPCStatus) -> Void,
    finish: @escaping @Sendable (State, ServerCall) throws(GRPCStatus) -> Response
  ) {
    self.state = state
    self.next = next
    self.finish = finish
  }

  func receive(_ message: ByteBuffer, on call: ServerCall) throws(GRPCStatus) {
    try self.next(&self.state, Request(requestPayload: message))
  }

  func endOfRequests(on call: ServerCall) throws(GRPCStatus) {
    call.send(try self.finish(self.state, call))
    call.finish(.ok)
  }
}

/// Bidirectional streaming: react to each request.
private final class EachRequestHandler<Request: SwiftProtobuf.Message>: RPCStreamHandler {
  private let onMessage: @Sendable (Request, ServerCall) throws(GRPCStatus) -> Void

  init(_ onMessage: @escaping @Sendable (Request, ServerCall) throws(GRPCStatus) -> Void) {
    self.onMessage = onMessage
  }

  func receive(_ message: ByteBuffer, on call: ServerCall) throws(GRPCStatus) {
    try self.onMessage(Request(requestPayload: message), call)
  }

  func endOfRequests(on call: ServerCall) throws(GRPCStatus) {
    call.finish(.ok)
  }
}
