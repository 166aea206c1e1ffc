import GRPCCore
import ProtoMessages
import ProtoStubs

/// The unary echo EchoServer serves, byte for byte (`echo <message>`). The streaming methods
/// are not benchmarked and answer `UNIMPLEMENTED`.
struct EchoPeerService: Proto_EchoService.SimpleServiceProtocol {
  func echoService(request: Proto_Message, context: ServerContext) async throws -> Proto_Message {
    .with { $0.message = "echo " + request.message }
  }

  func serverStreamingEcho(
    request: Proto_StreamingEchoRequest,
    response: RPCWriter<Proto_Message>,
    context: ServerContext
  ) async throws {
    throw Self.unbenchmarked(context)
  }

  func clientStreamingEcho(
    request: RPCAsyncSequence<Proto_Message, any Error>,
    context: ServerContext
  ) async throws -> Proto_Message {
    throw Self.unbenchmarked(context)
  }

  func bidirectionalStreamingEcho(
    request: RPCAsyncSequence<Proto_Message, any Error>,
    response: RPCWriter<Proto_Message>,
    context: ServerContext
  ) async throws {
    throw Self.unbenchmarked(context)
  }

  private static func unbenchmarked(_ context: ServerContext) -> RPCError {
    RPCError(
      code: .unimplemented,
      message: "the bench peer serves the unary EchoService only, not "
        + context.descriptor.fullyQualifiedMethod)
  }
}
