/// The JSON answer of `/echo`, for success and failure alike.
struct EchoJSONReply: Encodable {
  /// The echoed text (`echo hello`); absent on failure.
  var reply: String?
  /// The gRPC status name (`OK`, `UNAVAILABLE`, ...).
  var grpcStatus: String
  /// The gRPC status code number.
  var grpcCode: Int
  /// The gRPC status message; empty on success.
  var grpcMessage: String
  /// How long the gRPC call took, in milliseconds.
  var latencyMs: Double
  /// The server address that answered, when a connection was used.
  var replica: String?

  enum CodingKeys: String, CodingKey {
    case reply
    case grpcStatus = "grpc_status"
    case grpcCode = "grpc_code"
    case grpcMessage = "grpc_message"
    case latencyMs = "latency_ms"
    case replica
  }
}
