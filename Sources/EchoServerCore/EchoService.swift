import GRPCServerRuntime
import GRPCWire
import ProtoMessages

/// `proto.EchoService`: the original's unary echo and one method per streaming RPC type.
///
/// Replies are `echo <message>`, exactly as the Go original answers. Request metadata named
/// `x-grpc-test-echo-initial` comes back in the response headers and
/// `x-grpc-test-echo-trailing-bin` in the trailers (the gRPC interop-test convention), so clients
/// can check that custom and binary metadata pass through.
public enum EchoService {
  /// The service's fully qualified name.
  public static let serviceName = "proto.EchoService"
  /// Replies per server-streaming request when the request asks for none.
  public static let defaultStreamCount: UInt32 = 3
  /// The most replies one server-streaming request may ask for.
  public static let maxStreamCount: UInt32 = 1000
  /// The longest reply client streaming joins its messages into: gRPC clients' default receive
  /// limit (4 MiB), so the reply can always be received, and the server holds no more than that
  /// for one call however long the client streams.
  public static let maxJoinedBytes = 4 * 1024 * 1024

  /// The method definitions to serve.
  public static func methods() -> [RPCMethodDefinition] {
    [
      .unary(service: Self.serviceName, method: "EchoService") {
        (request: Proto_Message, call) throws(GRPCStatus) in
        Self.echoMetadata(call)
        return Self.echo(request.message)
      },
      .serverStreaming(service: Self.serviceName, method: "ServerStreamingEcho") {
        (request: Proto_StreamingEchoRequest, call) throws(GRPCStatus) in
        let count = request.count == 0 ? Self.defaultStreamCount : request.count
        guard count <= Self.maxStreamCount else {
          throw GRPCStatus(
            code: .invalidArgument,
            message: "count \(request.count) is above the limit of \(Self.maxStreamCount) replies")
        }
        Self.echoMetadata(call)
        return repeatElement(Self.echo(request.message), count: Int(count))
      },
      .clientStreaming(
        service: Self.serviceName, method: "ClientStreamingEcho",
        initial: { String?.none },
        next: { (joined, request: Proto_Message) throws(GRPCStatus) in
          if joined == nil {
            joined = request.message
          } else {
            joined?.append(" ")
            joined?.append(request.message)
          }
          guard joined?.utf8.count ?? 0 <= Self.maxJoinedBytes else {
            throw GRPCStatus(
              code: .resourceExhausted,
              message:
                "the joined messages are over the reply limit of \(Self.maxJoinedBytes) bytes")
          }
        },
        finish: { (joined, call) throws(GRPCStatus) in
          Self.echoMetadata(call)
          return Self.echo(joined ?? "")
        }),
      .bidirectionalStreaming(service: Self.serviceName, method: "BidirectionalStreamingEcho") {
        (request: Proto_Message, call) throws(GRPCStatus) in
        Self.echoMetadata(call)
        call.send(Self.echo(request.message))
      },
    ]
  }

  static func echo(_ message: String) -> Proto_Message {
    Proto_Message.with { $0.message = "echo " + message }
  }

  private static let echoInitialHeader = "x-grpc-test-echo-initial"
  private static let echoTrailingHeader = "x-grpc-test-echo-trailing-bin"

  /// Copies the interop-test echo headers into the response, once, before the first reply.
  private static func echoMetadata(_ call: ServerCall) {
    guard call.initialMetadata.isEmpty, call.trailingMetadata.isEmpty else { return }
    for (name, value) in call.requestMetadata {
      // Lengths first: nearly every request carries only a user agent, and comparing lengths
      // is cheaper than comparing Strings.
      switch name.utf8.count {
      case Self.echoInitialHeader.utf8.count where name == Self.echoInitialHeader:
        call.initialMetadata.append((name, value))
      case Self.echoTrailingHeader.utf8.count where name == Self.echoTrailingHeader:
        call.trailingMetadata.append((name, value))
      default: break
      }
    }
  }
}
