import GRPCWire
import NIOCore

/// The application side of a streaming RPC, one instance per call.
///
/// Instances live on the connection's event loop and are called there, in order: ``receive(_:on:)``
/// for each request message, then ``endOfRequests(on:)`` when the client half-closes, or
/// ``cancel(_:)`` if the call ends early (client reset, deadline, connection lost). A handler
/// replies through the ``ServerCall``; a thrown status finishes the call with that status.
public protocol RPCStreamHandler: AnyObject {
  /// One request message (the payload of one gRPC message, decompressed).
  func receive(_ message: ByteBuffer, on call: ServerCall) throws(GRPCStatus)

  /// The client sent its last message.
  func endOfRequests(on call: ServerCall) throws(GRPCStatus)

  /// The call ended before the handler finished it; replies are no longer possible.
  func cancel(_ call: ServerCall)
}

extension RPCStreamHandler {
  /// Handlers with nothing to release need not implement cancellation.
  public func cancel(_ call: ServerCall) {}
}
