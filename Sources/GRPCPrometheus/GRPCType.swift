/// The shape of an RPC, spelled as go-grpc-prometheus spells the `grpc_type` label.
public enum GRPCType: String, Sendable, CaseIterable {
  /// One request message, one response message.
  case unary = "unary"
  /// A stream of request messages, one response message.
  case clientStream = "client_stream"
  /// One request message, a stream of response messages.
  case serverStream = "server_stream"
  /// Streams in both directions.
  case bidiStream = "bidi_stream"

  /// Whether per-message send and receive latencies are observed for this shape; Go observes
  /// them only on streaming calls, where a single message can wait on flow control.
  public var isStreaming: Bool {
    self != .unary
  }
}
