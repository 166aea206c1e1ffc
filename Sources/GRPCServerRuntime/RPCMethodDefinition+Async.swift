import GRPCPrometheus
import GRPCWire
import NIOCore
import SwiftProtobuf

extension RPCMethodDefinition {
  /// A unary method whose handler runs in a task of its own and may await (see
  /// ``Handler/task(_:)``); the reply it returns is sent, then the call finishes with OK.
  public static func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
    service: String,
    method: String,
    _ body: @escaping @Sendable (Request, AsyncServerCall) async throws(GRPCStatus) -> Response
  ) -> RPCMethodDefinition {
    .task(
      GRPCMethod(service: service, method: method, type: .unary),
      response: Response.protoMessageName
    ) { (request: Request, call) async throws(GRPCStatus) in
      try await call.send(try await body(request, call))
    }
  }

  /// A server-streaming method whose handler runs in a task of its own and sends its replies
  /// with ``AsyncServerCall/send(_:)-(SwiftProtobuf.Message)``, each waiting while the client
  /// does not read; the call finishes with OK when the handler returns.
  public static func serverStreaming<Request: SwiftProtobuf.Message>(
    service: String,
    method: String,
    _ body: @escaping @Sendable (Request, AsyncServerCall) async throws(GRPCStatus) -> Void
  ) -> RPCMethodDefinition {
    .task(GRPCMethod(service: service, method: method, type: .serverStream), response: nil, body)
  }

  /// A method of one request served by `body` in a task, the request decoded there.
  private static func task<Request: SwiftProtobuf.Message>(
    _ method: GRPCMethod,
    response: String?,
    _ body: @escaping @Sendable (Request, AsyncServerCall) async throws(GRPCStatus) -> Void
  ) -> RPCMethodDefinition {
    RPCMethodDefinition(
      method: method,
      handler: .task { (payload, call) async throws(GRPCStatus) in
        try await body(Request(requestPayload: payload), call)
      },
      messageTypes: (Request.protoMessageName, response))
  }
}

extension AsyncServerCall {
  /// Serializes and sends one response message, and waits until the call can take the next.
  public func send(_ message: some SwiftProtobuf.Message) async throws(GRPCStatus) {
    let serialized: [UInt8]
    do {
      serialized = try message.serializedBytes()
    } catch {
      throw GRPCStatus(code: .internalError, message: "could not serialize the response: \(error)")
    }
    try await self.send(ByteBuffer(bytes: serialized))
  }
}
