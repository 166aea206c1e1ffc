import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GRPCProtobuf
import GRPCServerRuntime
import GRPCWire
import Logging
import NIOCore
import NIOPosix
import ProtoMessages
import Synchronization
import TestSupport
import Testing

/// Handlers that await, in tasks of their own, served by the runtime and called by grpc-swift-2.
@Suite("Async handlers")
struct AsyncHandlerTests {
  static let service = "test.Async"

  /// What the handlers saw, for the tests to check.
  final class Observations: Sendable {
    let started = Mutex(false)
    let cancelled = Mutex(false)
  }

  static func methods(_ observations: Observations) -> [RPCMethodDefinition] {
    [
      // A handler that waits for something else (here a timer, in real code a database).
      .unary(service: Self.service, method: "Echo") {
        (request: Proto_Message, call: AsyncServerCall) async throws(GRPCStatus) in
        try? await Task.sleep(for: .milliseconds(5))
        return Proto_Message("async \(request.message) from \(call.method.method)")
      },
      .unary(service: Self.service, method: "Fail") {
        (request: Proto_Message, _: AsyncServerCall) async throws(GRPCStatus) -> Proto_Message in
        throw GRPCStatus(code: .notFound, message: "no \(request.message)")
      },
      // More replies than the client's flow-control window holds: sends wait for the client.
      .serverStreaming(service: Self.service, method: "Many") {
        (request: Proto_Message, call: AsyncServerCall) async throws(GRPCStatus) in
        let chunk = String(repeating: "x", count: 16 * 1024)
        for index in 0..<Int(request.message)! {
          try await call.send(Proto_Message("\(index) \(chunk)"))
        }
      },
      // Waits until its task is cancelled, which the call's end does.
      .unary(service: Self.service, method: "Forever") {
        (_: Proto_Message, _: AsyncServerCall) async throws(GRPCStatus) -> Proto_Message in
        observations.started.withLock { $0 = true }
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(30)) }
        observations.cancelled.withLock { $0 = true }
        throw GRPCStatus(code: .internalError, message: "not sent: the call has ended")
      },
    ]
  }

  /// Runs `body` against a server of ``methods(_:)`` and a grpc-swift-2 client.
  static func withServer(
    _ body:
      @escaping @Sendable (GRPCClient<HTTP2ClientTransport.Posix>, Observations) async throws
      -> Void
  ) async throws {
    let observations = Observations()
    let server = MultiplexedServer(
      methods: Self.methods(observations), http1Router: HTTP1Router(), interceptors: [],
      group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "AsyncHandlerTests"))
    let address = try await server.start(host: "127.0.0.1", port: 0)
    do {
      try await withTimeout(.seconds(20), "async handler calls") {
        let transport = try HTTP2ClientTransport.Posix(
          target: .ipv4(address: "127.0.0.1", port: address.port!), transportSecurity: .plaintext)
        try await withGRPCClient(transport: transport) { client in
          try await body(client, observations)
        }
      }
    } catch {
      await server.shutdown(gracePeriod: .seconds(1))
      throw error
    }
    await server.shutdown(gracePeriod: .seconds(1))
  }

  static func unary(
    _ client: GRPCClient<HTTP2ClientTransport.Posix>, _ method: String, _ message: String,
    timeout: Duration = .seconds(10)
  ) async throws -> Result<String, RPCError> {
    var options = CallOptions.defaults
    options.timeout = timeout
    do {
      return .success(
        try await client.unary(
          request: ClientRequest(message: Proto_Message(message)),
          descriptor: MethodDescriptor(fullyQualifiedService: Self.service, method: method),
          serializer: ProtobufSerializer<Proto_Message>(),
          deserializer: ProtobufDeserializer<Proto_Message>(),
          options: options
        ) { response in try response.message.message })
    } catch let error as RPCError {
      return .failure(error)
    }
  }

  @Test("an async unary handler's reply arrives, and its thrown status ends the call")
  func unaryReplyAndStatus() async throws {
    try await Self.withServer { client, _ in
      #expect(try await Self.unary(client, "Echo", "hi").get() == "async hi from Echo")
      let failure = try await Self.unary(client, "Fail", "such thing")
      #expect(throws: RPCError.self) { try failure.get() }
      if case .failure(let error) = failure {
        #expect(error.code == .notFound)
        #expect(error.message == "no such thing")
      }
    }
  }

  @Test("a server-streaming async handler sends more than the flow-control window, all of it")
  func streamingWithBackpressure() async throws {
    try await Self.withServer { client, _ in
      var options = CallOptions.defaults
      options.timeout = .seconds(10)
      let indices = try await client.serverStreaming(
        request: ClientRequest(message: Proto_Message("64")),
        descriptor: MethodDescriptor(fullyQualifiedService: Self.service, method: "Many"),
        serializer: ProtobufSerializer<Proto_Message>(),
        deserializer: ProtobufDeserializer<Proto_Message>(),
        options: options
      ) { response in
        var indices: [Int] = []
        for try await reply in response.messages {
          indices.append(Int(reply.message.prefix { $0 != " " })!)
        }
        return indices
      }
      #expect(indices == Array(0..<64))
    }
  }

  @Test("the handler's task is cancelled when the client cancels the call")
  func cancelledWithTheCall() async throws {
    try await Self.withServer { client, observations in
      let call = Task { try await Self.unary(client, "Forever", "") }
      let started = try await eventually(within: .seconds(10)) {
        observations.started.withLock { $0 }
      }
      #expect(started)
      call.cancel()
      _ = try? await call.value
      let cancelled = try await eventually(within: .seconds(10)) {
        observations.cancelled.withLock { $0 }
      }
      #expect(cancelled)
    }
  }

  @Test("the handler's task is cancelled when the deadline passes")
  func cancelledAtTheDeadline() async throws {
    try await Self.withServer { client, observations in
      _ = try await Self.unary(client, "Echo", "warm-up").get()
      let result = try await Self.unary(client, "Forever", "", timeout: .milliseconds(300))
      let started = observations.started.withLock { $0 }
      #expect(started)
      if case .failure(let error) = result {
        #expect(error.code == .deadlineExceeded)
      } else {
        Issue.record("the call succeeded: \(result)")
      }
      let cancelled = try await eventually(within: .seconds(10)) {
        observations.cancelled.withLock { $0 }
      }
      #expect(cancelled)
    }
  }
}
