import GRPCPrometheus
import GRPCWire
import NIOCore

/// A method the server routes to: its name and type (also its metric labels) and its handler.
public struct RPCMethodDefinition: Sendable {
  /// How the runtime drives the method's handler.
  public enum Handler: Sendable {
    /// One request, one reply: runs synchronously on the event loop once the client has
    /// half-closed, with the request payload, and replies through ``ServerCall/send(_:)-(ByteBuffer)``;
    /// the runtime then finishes the call with OK (unless the handler finished it).
    case unary(@Sendable (ByteBuffer, ServerCall) throws(GRPCStatus) -> Void)
    /// One request, any number of replies, in a task of its own: for a handler that awaits
    /// (a database, another service). It starts once the client has half-closed, with the
    /// request payload, and replies through ``AsyncServerCall/send(_:)``; when it returns the
    /// runtime finishes the call with OK, when it throws with that status. The task is cancelled
    /// when the call ends first.
    case task(@Sendable (ByteBuffer, AsyncServerCall) async throws(GRPCStatus) -> Void)
    /// Any message pattern; the factory makes one handler per call.
    case stream(@Sendable () -> any RPCStreamHandler)
  }

  /// Service, method and RPC type; the metric labels come from here.
  public let method: GRPCMethod
  /// The HTTP/2 `:path` the method is served at: `/package.Service/Method`.
  public let path: String
  /// The handler.
  public let handler: Handler
  /// The protobuf names of the request and response messages (`proto.Message`), when the
  /// handler is typed; ``DeclaredMethods/check(_:)`` holds them against the proto.
  public let messageTypes: (request: String, response: String?)?

  /// Creates a definition from a handler working on raw message payloads; `messageTypes` names
  /// the messages they hold, if known.
  public init(
    method: GRPCMethod, handler: Handler, messageTypes: (request: String, response: String?)? = nil
  ) {
    self.method = method
    self.path = "/\(method.service)/\(method.method)"
    self.handler = handler
    self.messageTypes = messageTypes
  }
}
