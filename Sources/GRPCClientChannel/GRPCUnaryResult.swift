import GRPCWire
import NIOCore

/// How a unary call ended. Failures are values, not errors: the status says what happened,
/// and the call's future never fails.
///
/// A class: the result passes through a future and its callbacks, and one reference is cheaper
/// to hand on than copies of its strings, buffer and metadata.
public final class GRPCUnaryResult: Sendable {
  /// The call's status; ``message`` is set only when it is OK.
  public let status: GRPCStatus
  /// The serialized response message.
  public let message: ByteBuffer?
  /// Custom response metadata from the headers and trailers, in arrival order.
  public let metadata: [(name: String, value: String)]
  /// The address of the server that answered (`127.0.0.1:8080`), nil when no connection was
  /// used.
  public let peer: String?
  /// How long the call took.
  public let elapsed: Duration
  /// True when ``status`` is the `grpc-status` the server sent; false when this client
  /// concluded it: no connection, the deadline, a reset, or a reply it could not accept (a
  /// RESOURCE_EXHAUSTED then means the reply, not the request, was too large).
  public let isServerStatus: Bool

  /// Creates a result.
  public init(
    status: GRPCStatus,
    message: ByteBuffer?,
    metadata: [(name: String, value: String)],
    peer: String?,
    elapsed: Duration,
    isServerStatus: Bool
  ) {
    self.status = status
    self.message = message
    self.metadata = metadata
    self.peer = peer
    self.elapsed = elapsed
    self.isServerStatus = isServerStatus
  }
}
