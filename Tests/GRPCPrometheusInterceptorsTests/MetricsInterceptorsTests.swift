import GRPCCore
import GRPCInProcessTransport
import GRPCPrometheus
import Prometheus
import ProtoMessages
import ProtoStubs
import Testing

@testable import GRPCPrometheusInterceptors

/// Real GRPCCore server and client over the in-process transport, with both interceptors
/// recording into one fresh registry per test.
@Suite struct MetricsInterceptorsTests {
  let registry = PrometheusCollectorRegistry()
  let clientInterceptor: ClientMetricsInterceptor
  var reader: MetricsReader { MetricsReader(registry: self.registry) }

  init() {
    self.clientInterceptor = ClientMetricsInterceptor(
      metrics: ClientMetrics(registry: self.registry)
    )
  }

  func withEcho(
    _ body: (Proto_EchoService.Client<InProcessTransport.Client>, AsyncStream<Void>) async throws ->
      Void
  ) async throws {
    let serverInterceptor = self.registerEchoMethods()
    let clientInterceptor = self.clientInterceptor
    let (waiting, continuation) = AsyncStream.makeStream(of: Void.self)
    let transport = InProcessTransport()
    try await withGRPCServer(
      transport: transport.server,
      services: [EchoService(waiting: continuation)],
      interceptors: [serverInterceptor]
    ) { _ in
      try await withGRPCClient(transport: transport.client, interceptors: [clientInterceptor]) {
        try await body(Proto_EchoService.Client(wrapping: $0), waiting)
      }
    }
  }

  /// Registers the echo methods with both interceptors, as a program does at start-up.
  private func registerEchoMethods() -> ServerMetricsInterceptor {
    let serverInterceptor = ServerMetricsInterceptor(
      metrics: ServerMetrics(registry: self.registry))
    serverInterceptor.register(Proto_EchoService.Method.descriptors)
    self.clientInterceptor.register(Proto_EchoService.Method.descriptors)
    return serverInterceptor
  }

  // No RPC runs here: a client whose body makes no call is shut down before it connects, which
  // GRPCCore reports as an error, so registration alone is checked.
  @Test func everySeriesOfEveryMethodStartsAtZero() {
    _ = self.registerEchoMethods()
    let samples = self.reader.samples()
    let methods = [
      ("EchoService", "unary"), ("ServerStreamingEcho", "server_stream"),
      ("ClientStreamingEcho", "client_stream"), ("BidirectionalStreamingEcho", "bidi_stream"),
    ]
    for side in ["server", "client"] {
      for (method, type) in methods {
        for name in ["started_total", "msg_received_total", "msg_sent_total"] {
          #expect(
            self.reader.value("grpc_\(side)_\(name)", method, type) == 0,
            "\(side) \(name) \(method)")
        }
        #expect(self.reader.handled(side, method, type) == [:], "\(side) \(method)")
        #expect(self.reader.value("grpc_\(side)_handling_seconds_count", method, type) == 0)
      }
    }
    // Server 4 × (3 + 17 + 14); client the same plus send and receive histograms on 3 streams.
    #expect(samples.count == 2 * 4 * 34 + 3 * 2 * 14)
  }

  @Test func unaryOKAndError() async throws {
    try await self.withEcho { echo, _ in
      let reply = try await echo.echoService(.with { $0.message = "hi" })
      #expect(reply.message == "echo hi")
      await #expect(throws: RPCError.self) {
        try await echo.echoService(.with { $0.message = "NotFound" })
      }
      let r = self.reader
      #expect(
        await r.eventually {
          $0.handled("server", "EchoService", "unary") == ["OK": 1, "NotFound": 1]
        })
      for side in ["server", "client"] {
        #expect(r.value("grpc_\(side)_started_total", "EchoService", "unary") == 2, "\(side)")
        #expect(r.value("grpc_\(side)_handling_seconds_count", "EchoService", "unary") == 2)
      }
      #expect(r.handled("client", "EchoService", "unary") == ["OK": 1, "NotFound": 1])
      // Server: two requests read, one reply sent (none for the failure).
      #expect(r.value("grpc_server_msg_received_total", "EchoService", "unary") == 2)
      #expect(r.value("grpc_server_msg_sent_total", "EchoService", "unary") == 1)
      // Client: two requests sent, one reply received (Go counted it only on error).
      #expect(r.value("grpc_client_msg_sent_total", "EchoService", "unary") == 2)
      #expect(r.value("grpc_client_msg_received_total", "EchoService", "unary") == 1)
    }
  }

  @Test func serverStreaming() async throws {
    try await self.withEcho { echo, _ in
      let count = try await echo.serverStreamingEcho(
        .with {
          $0.message = "x"; $0.count = 3
        }
      ) {
        var count = 0
        for try await _ in $0.messages { count += 1 }
        return count
      }
      #expect(count == 3)
      let (m, t) = ("ServerStreamingEcho", "server_stream")
      let r = self.reader
      #expect(await r.eventually { $0.handled("server", m, t) == ["OK": 1] })
      #expect(r.handled("client", m, t) == ["OK": 1])
      #expect(r.value("grpc_server_msg_received_total", m, t) == 1)
      #expect(r.value("grpc_server_msg_sent_total", m, t) == 3)
      #expect(r.value("grpc_client_msg_sent_total", m, t) == 1)
      #expect(r.value("grpc_client_msg_received_total", m, t) == 3)
      #expect(r.value("grpc_client_msg_send_handling_seconds_count", m, t) == 1)
      // Three messages plus the end of the stream, as Go's four RecvMsg calls.
      #expect(r.value("grpc_client_msg_recv_handling_seconds_count", m, t) == 4)
    }
  }

  @Test func clientStreaming() async throws {
    try await self.withEcho { echo, _ in
      let reply = try await echo.clientStreamingEcho {
        for word in ["a", "b", "c", "d"] { try await $0.write(.with { $0.message = word }) }
      }
      #expect(reply.message == "echo a b c d")
      let (m, t) = ("ClientStreamingEcho", "client_stream")
      let r = self.reader
      #expect(await r.eventually { $0.handled("server", m, t) == ["OK": 1] })
      #expect(r.handled("client", m, t) == ["OK": 1])
      #expect(r.value("grpc_server_msg_received_total", m, t) == 4)
      #expect(r.value("grpc_server_msg_sent_total", m, t) == 1)
      #expect(r.value("grpc_client_msg_sent_total", m, t) == 4)
      #expect(r.value("grpc_client_msg_received_total", m, t) == 1)
      #expect(r.value("grpc_client_msg_send_handling_seconds_count", m, t) == 4)
    }
  }

  @Test func bidirectionalStreamingWithAnErrorStatus() async throws {
    try await self.withEcho { echo, _ in
      await #expect(throws: RPCError.self) {
        try await echo.bidirectionalStreamingEcho {
          for word in ["a", "b", "PermissionDenied"] {
            try await $0.write(.with { $0.message = word })
          }
        } onResponse: {
          for try await _ in $0.messages {}
        }
      }
      let (m, t) = ("BidirectionalStreamingEcho", "bidi_stream")
      let r = self.reader
      #expect(await r.eventually { $0.handled("server", m, t) == ["PermissionDenied": 1] })
      #expect(r.handled("client", m, t) == ["PermissionDenied": 1])
      #expect(r.value("grpc_server_msg_received_total", m, t) == 3)
      #expect(r.value("grpc_server_msg_sent_total", m, t) == 2)
      #expect(r.value("grpc_client_msg_received_total", m, t) == 2)
      #expect(r.value("grpc_client_started_total", m, t) == 1)
    }
  }

  @Test func expiredDeadlineCountsAsDeadlineExceededOnBothSides() async throws {
    try await self.withEcho { echo, _ in
      _ = try await echo.echoService(.with { $0.message = "warm-up" })
      var options = CallOptions.defaults
      options.timeout = .milliseconds(200)
      // Through the call site, which tells a deadline from a cancellation exactly.
      let error = await #expect(throws: RPCError.self) {
        try await self.clientInterceptor.recordingCall(
          to: Proto_EchoService.Method.EchoService.descriptor
        ) {
          try await echo.echoService(.with { $0.message = "wait" }, options: options)
        }
      }
      #expect(error?.code == .deadlineExceeded)
      let (m, t) = ("EchoService", "unary")
      let r = self.reader
      #expect(
        await r.eventually { $0.handled("server", m, t) == ["OK": 1, "DeadlineExceeded": 1] })
      #expect(r.handled("client", m, t) == ["OK": 1, "DeadlineExceeded": 1])
      #expect(r.value("grpc_server_msg_sent_total", m, t) == 1)
      #expect(r.value("grpc_client_msg_received_total", m, t) == 1)
    }
  }

  @Test func cancelledCallCountsAsCanceled() async throws {
    try await self.withEcho { echo, waiting in
      let call = Task {
        try await echo.echoService(.with { $0.message = "wait" })
      }
      var handlerStarted = waiting.makeAsyncIterator()
      _ = await handlerStarted.next()
      call.cancel()
      _ = await call.result
      // Only the client side: the in-process transport never cancels the server's handler, so
      // the server's Canceled path is covered by the deadline test and the mapping test.
      #expect(self.reader.handled("client", "EchoService", "unary") == ["Canceled": 1])
    }
  }

  @Test func descriptorsWithoutTypeUseTheRegisteredType() async throws {
    let interceptor = ServerMetricsInterceptor(metrics: ServerMetrics(registry: self.registry))
    let untyped = MethodDescriptor(fullyQualifiedService: "proto.EchoService", method: "Legacy")
    interceptor.register(untyped, type: .clientStream)
    #expect(self.reader.value("grpc_server_started_total", "Legacy", "client_stream") == 0)
    let unknown = MethodDescriptor(fullyQualifiedService: "proto.EchoService", method: "Unknown")
    interceptor.register([unknown])
    #expect(self.reader.value("grpc_server_started_total", "Unknown", "bidi_stream") == 0)
  }

  @Test func classifiesHowAnRPCEnded() {
    struct Plain: Error {}
    #expect(
      GRPCCode.ending(with: CancellationError(), cancelled: true, deadlinePassed: false)
        == .canceled)
    #expect(
      GRPCCode.ending(with: CancellationError(), cancelled: true, deadlinePassed: true)
        == .deadlineExceeded)
    let unknown = RPCError(code: .unknown, message: "")
    #expect(GRPCCode.ending(with: unknown, cancelled: true, deadlinePassed: false) == .canceled)
    #expect(GRPCCode.ending(with: unknown, cancelled: false, deadlinePassed: true) == .unknown)
    let cancelled = RPCError(code: .cancelled, message: "")
    #expect(
      GRPCCode.ending(with: cancelled, cancelled: false, deadlinePassed: true) == .deadlineExceeded)
    let notFound = RPCError(code: .notFound, message: "")
    #expect(GRPCCode.ending(with: notFound, cancelled: true, deadlinePassed: true) == .notFound)
    #expect(GRPCCode.ending(with: Plain(), cancelled: false, deadlinePassed: false) == .unknown)
    #expect(GRPCCode.ending(with: Plain(), cancelled: true, deadlinePassed: false) == .canceled)
  }

  @Test func mapsErrorsToGoCodes() {
    #expect(GRPCCode(RPCError.Code.cancelled) == .canceled)
    #expect(GRPCCode(RPCError.Code.deadlineExceeded) == .deadlineExceeded)
    #expect(GRPCCode(RPCError.Code.internalError) == .internalError)
    #expect(GRPCCode(RPCError.Code.unauthenticated) == .unauthenticated)
    #expect(
      GRPCCode.allCases.dropFirst().allSatisfy { code in
        RPCError.Code(Status.Code(rawValue: code.rawValue)!).map(GRPCCode.init) == code
      })
  }
}
