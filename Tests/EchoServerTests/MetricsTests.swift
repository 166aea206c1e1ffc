import GRPCCore
import GRPCProtobuf
import ProtoMessages
import ProtoStubs
import TestSupport
import Testing

/// The go-grpc-prometheus server series, read exactly from the registry after known traffic.
@Suite("Server metrics", .timeLimit(.minutes(1)))
struct MetricsTests {
  /// Every method the echo server serves, with its `grpc_type`, plus the shared unknown method.
  static let servedMethods: [(service: String, method: String, type: String)] = [
    ("proto.EchoService", "EchoService", "unary"),
    ("proto.EchoService", "ServerStreamingEcho", "server_stream"),
    ("proto.EchoService", "ClientStreamingEcho", "client_stream"),
    ("proto.EchoService", "BidirectionalStreamingEcho", "bidi_stream"),
    ("grpc.health.v1.Health", "Check", "unary"),
    ("grpc.health.v1.Health", "Watch", "server_stream"),
    ("grpc.reflection.v1.ServerReflection", "ServerReflectionInfo", "bidi_stream"),
    ("grpc.reflection.v1alpha.ServerReflection", "ServerReflectionInfo", "bidi_stream"),
    ("unknown", "unknown", "unary"),
  ]

  static let goCodes = [
    "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
    "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted",
    "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
  ]

  static func labels(
    _ method: String, _ type: String, service: String = "proto.EchoService"
  )
    -> [String: String]
  {
    ["grpc_service": service, "grpc_method": method, "grpc_type": type]
  }

  @Test("before any call every method has all 17 codes, and every series, at 0")
  func initialSeries() async throws {
    try await TestServer.with { server in
      let metrics = try server.exposition()
      for (service, method, type) in Self.servedMethods {
        let labels = Self.labels(method, type, service: service)
        for family in [
          "grpc_server_started_total", "grpc_server_msg_received_total",
          "grpc_server_msg_sent_total", "grpc_server_handling_seconds_count",
        ] {
          #expect(metrics.value(family, labels) == 0, "\(family) \(labels)")
        }
        for code in Self.goCodes {
          #expect(
            metrics.value("grpc_server_handled_total", labels.adding(["grpc_code": code])) == 0,
            "\(service)/\(method) \(code)")
        }
      }
      // Nothing else: 17 handled series per served method, no stray label sets.
      let handled = metrics.samples(named: "grpc_server_handled_total")
      #expect(handled.count == Self.servedMethods.count * 17)
      #expect(Set(handled.compactMap { $0.labels["grpc_code"] }) == Set(Self.goCodes))
      #expect(metrics.types["grpc_server_handled_total"] == "counter")
      #expect(metrics.types["grpc_server_handling_seconds"] == "histogram")
    }
  }

  @Test("a scripted workload gives exact started, handled, message and histogram counts")
  func workload() async throws {
    try await TestServer.with { server in
      try await withGRPCTestClient(server) { client in
        let echo = EchoClient(wrapping: client)
        for text in ["a", "b"] {
          _ = try await echo.echoService(Proto_Message(text), options: .test())
        }
        for count: UInt32 in [0, 5] {
          _ = try await echo.serverStreamingEcho(
            .with { $0.count = count }, options: .test()
          ) { try await collect($0) }
        }
        do {
          _ = try await echo.serverStreamingEcho(.with { $0.count = 1001 }, options: .test()) {
            try await collect($0)
          }
          Issue.record("count 1001 should have been refused")
        } catch let error as RPCError where error.code == .invalidArgument {}
        _ = try await echo.clientStreamingEcho(options: .test()) { writer in
          for word in ["x", "y", "z"] { try await writer.write(Proto_Message(word)) }
        }
        _ = try await echo.bidirectionalStreamingEcho(options: .test()) { writer in
          for word in ["1", "2", "3", "4"] { try await writer.write(Proto_Message(word)) }
        } onResponse: {
          try await collect($0)
        }
        do {
          _ = try await client.unary(
            request: ClientRequest(message: Proto_Message()),
            descriptor: MethodDescriptor(fullyQualifiedService: "no.Such", method: "Method"),
            serializer: ProtobufSerializer<Proto_Message>(),
            deserializer: ProtobufDeserializer<Proto_Message>(),
            options: .test()
          ) { try $0.message }
          Issue.record("an unknown method should be UNIMPLEMENTED")
        } catch let error as RPCError where error.code == .unimplemented {}
      }

      let metrics = try server.exposition()
      // (method, type, started, handled by code, received, sent)
      let expected: [(String, String, String, Double, [String: Double], Double, Double)] = [
        ("proto.EchoService", "EchoService", "unary", 2, ["OK": 2], 2, 2),
        (
          "proto.EchoService", "ServerStreamingEcho", "server_stream", 3,
          ["OK": 2, "InvalidArgument": 1], 3, 8
        ),
        ("proto.EchoService", "ClientStreamingEcho", "client_stream", 1, ["OK": 1], 3, 1),
        ("proto.EchoService", "BidirectionalStreamingEcho", "bidi_stream", 1, ["OK": 1], 4, 4),
        ("unknown", "unknown", "unary", 1, ["Unimplemented": 1], 0, 0),
        ("grpc.health.v1.Health", "Check", "unary", 0, [:], 0, 0),
      ]
      for (service, method, type, started, handled, received, sent) in expected {
        let labels = Self.labels(method, type, service: service)
        #expect(metrics.value("grpc_server_started_total", labels) == started, "\(method)")
        #expect(metrics.value("grpc_server_msg_received_total", labels) == received, "\(method)")
        #expect(metrics.value("grpc_server_msg_sent_total", labels) == sent, "\(method)")
        #expect(
          metrics.value("grpc_server_handling_seconds_count", labels) == started, "\(method)")
        for code in Self.goCodes {
          #expect(
            metrics.value("grpc_server_handled_total", labels.adding(["grpc_code": code]))
              == handled[code, default: 0],
            "\(method) \(code)")
        }
        // The +Inf bucket holds every observation.
        #expect(
          metrics.value("grpc_server_handling_seconds_bucket", labels.adding(["le": "+Inf"]))
            == started, "\(method)")
      }
    }
  }
}
