import GRPCPrometheus
import GRPCWire
import NIOCore

/// A call as an async handler (``RPCMethodDefinition/Handler/task(_:)``) sees it: what the client
/// asked for, and the way to answer, from any task.
///
/// Replies hop to the call's event loop. ``send(_:)`` returns once the call can take the next
/// message, so a handler that produces many waits while the client does not read them instead of
/// piling them up; it throws `CANCELLED` once the call has ended, and the handler's task is
/// cancelled then too (the client cancelled, the deadline passed, the connection closed).
public struct AsyncServerCall: Sendable {
  /// Service, method and RPC type.
  public let method: GRPCMethod
  /// The request's custom metadata (reserved gRPC and HTTP/2 headers removed).
  public let requestMetadata: [(name: String, value: String)]
  /// The client's address, as NIO spells it.
  public let peer: String
  /// When the client stops waiting, from `grpc-timeout`; `nil` when it sent none.
  public let deadline: NIODeadline?
  /// The event loop of the call's connection.
  public let eventLoop: any EventLoop
  private let call: NIOLoopBound<ServerCall>

  init(_ call: ServerCall) {
    self.method = call.method
    self.requestMetadata = call.requestMetadata
    self.peer = call.peer
    self.deadline = call.deadline
    self.eventLoop = call.eventLoop
    self.call = NIOLoopBound(call, eventLoop: call.eventLoop)
  }

  /// Sends one response message (a serialized payload; the runtime frames and compresses it)
  /// and waits until the call can take the next one.
  public func send(_ payload: ByteBuffer) async throws(GRPCStatus) {
    let ready = self.eventLoop.makePromise(of: Void.self)
    let call = self.call
    self.eventLoop.execute { call.value.send(payload, completing: ready) }
    do {
      try await ready.futureResult.get()
    } catch let status as GRPCStatus {
      throw status
    } catch {
      throw GRPCStatus(code: .internalError, message: "\(error)")
    }
  }

  /// Ends the call with `status` (after the handler's task returned or threw).
  func finish(_ status: GRPCStatus) {
    let call = self.call
    self.eventLoop.execute { call.value.finish(status) }
  }
}
