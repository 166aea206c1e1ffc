import GRPCCore
import GRPCProtobuf
import ProtoMessages
import ProtoStubs
import TestSupport
import Testing

/// Calls the server must refuse, each with the status a gRPC client expects, and what the
/// metrics make of them.
@Suite("Error statuses", .timeLimit(.minutes(1)))
struct StatusTests {
  static let bidi = [
    "grpc_service": "proto.EchoService", "grpc_method": "BidirectionalStreamingEcho",
    "grpc_type": "bidi_stream",
  ]

  @Test("an unknown method is UNIMPLEMENTED and counted under unknown/unknown")
  func unknownMethod() async throws {
    try await TestServer.with { server in
      let error = await #expect(throws: RPCError.self) {
        try await withGRPCTestClient(server) { client in
          try await client.unary(
            request: ClientRequest(message: Proto_Message("?")),
            descriptor: MethodDescriptor(
              fullyQualifiedService: "proto.EchoService", method: "NoSuchMethod"),
            serializer: ProtobufSerializer<Proto_Message>(),
            deserializer: ProtobufDeserializer<Proto_Message>(),
            options: .test()
          ) { try $0.message }
        }
      }
      #expect(error?.code == .unimplemented)
      #expect(error?.message.contains("NoSuchMethod") == true)

      let unknown = ["grpc_service": "unknown", "grpc_method": "unknown", "grpc_type": "unary"]
      let metrics = try server.exposition()
      #expect(metrics.value("grpc_server_started_total", unknown) == 1)
      #expect(
        metrics.value("grpc_server_handled_total", unknown.adding(["grpc_code": "Unimplemented"]))
          == 1)
      // The made-up method name must not become a series of its own.
      #expect(
        metrics.samples(named: "grpc_server_started_total").allSatisfy {
          $0.labels["grpc_method"] != "NoSuchMethod"
        })
    }
  }

  @Test("with a 1024-byte limit a 1024-byte message passes and a 1025-byte one is refused")
  func messageSizeLimit() async throws {
    let underLimit = Self.message(ofSerializedSize: 1024)
    let overLimit = Self.message(ofSerializedSize: 1025)
    try await TestServer.with {
      $0.runtime.maxReceiveMessageSize = 1024
    } _: { server in
      let reply = try await withEchoClient(server) { echo in
        try await echo.echoService(underLimit, options: .test())
      }
      #expect(reply.message == "echo " + underLimit.message)

      let error = await #expect(throws: RPCError.self) {
        try await withEchoClient(server) { echo in
          try await echo.echoService(overLimit, options: .test())
        }
      }
      #expect(error?.code == .resourceExhausted)

      let unary = [
        "grpc_service": "proto.EchoService", "grpc_method": "EchoService", "grpc_type": "unary",
      ]
      let metrics = try server.exposition()
      #expect(metrics.value("grpc_server_handled_total", unary.adding(["grpc_code": "OK"])) == 1)
      #expect(
        metrics.value(
          "grpc_server_handled_total", unary.adding(["grpc_code": "ResourceExhausted"])) == 1)
    }
  }

  /// The client's deadline (`CallOptions.timeout`): the client sees DEADLINE_EXCEEDED and the
  /// server counts the call exactly once. Which code the server counts is a race it cannot win:
  /// grpc-swift-2 computes `grpc-timeout` before it connects (OneShotExecutor), so the server's
  /// timer, armed when the headers arrive, fires later than the client's. The client then ends
  /// the stream itself, with END_STREAM (the bidi handler finishes OK) or RST_STREAM (Canceled),
  /// before the server's deadline. ``serverDeadline()`` checks the server's own timer exactly.
  @Test("a bidi call kept open past the client's deadline ends DEADLINE_EXCEEDED, counted once")
  func clientDeadline() async throws {
    try await TestServer.with { server in
      let error = await #expect(throws: RPCError.self) {
        try await withEchoClient(server) { echo in
          // Connect first: the client's deadline also covers connecting, and on a loaded
          // machine that alone could use it up before the request reached the server.
          _ = try await echo.echoService(Proto_Message("warm up"))
          let options = CallOptions.test(timeout: .milliseconds(500))
          return try await echo.bidirectionalStreamingEcho(options: options) { writer in
            try await writer.write(Proto_Message("still here"))
            try await Task.sleep(for: .seconds(60))  // Holds the stream open; cancelled.
          } onResponse: {
            try await collect($0)
          }
        }
      }
      #expect(error?.code == .deadlineExceeded)

      // The client gives up on its own clock; the server's verdict lands just after.
      let handled = { () throws -> [String: Double] in
        var codes: [String: Double] = [:]
        for sample in try server.exposition().samples(named: "grpc_server_handled_total")
        where sample.labels["grpc_method"] == "BidirectionalStreamingEcho" && sample.value > 0 {
          codes[sample.labels["grpc_code"] ?? "?"] = sample.value
        }
        return codes
      }
      #expect(try await eventually { try !handled().isEmpty })
      try await Task.sleep(for: .milliseconds(100))  // Room for a wrong second count to land.
      let codes = try handled()
      #expect(codes.values.reduce(0, +) == 1, "\(codes)")
      #expect(Set(codes.keys).isSubset(of: ["DeadlineExceeded", "Canceled", "OK"]), "\(codes)")
      withKnownIssue(
        "grpc-swift-2 ends the stream at its deadline before the server's timer fires",
        isIntermittent: true
      ) {
        #expect(codes == ["DeadlineExceeded": 1])
      }
      let metrics = try server.exposition()
      #expect(metrics.value("grpc_server_started_total", Self.bidi) == 1)
      #expect(metrics.value("grpc_server_msg_received_total", Self.bidi) == 1)
    }
  }

  @Test("the server's own grpc-timeout timer ends an open bidi call DEADLINE_EXCEEDED")
  func serverDeadline() async throws {
    try await TestServer.with { server in
      // No client deadline, so grpc-swift-2 neither sets grpc-timeout itself nor races the
      // server: the header below is the only deadline, and only the server enforces it.
      var metadata = Metadata()
      metadata.addString("300m", forKey: "grpc-timeout")
      let request = metadata
      let clock = ContinuousClock()
      let start = clock.now
      let error = await #expect(throws: RPCError.self) {
        try await withEchoClient(server) { echo in
          var options = CallOptions.defaults
          options.timeout = nil
          return try await echo.bidirectionalStreamingEcho(
            metadata: request, options: options
          ) { writer in
            try await writer.write(Proto_Message("still here"))
            try await Task.sleep(for: .seconds(60))  // Holds the stream open; cancelled.
          } onResponse: {
            try await collect($0)
          }
        }
      }
      let elapsed = clock.now - start
      #expect(error?.code == .deadlineExceeded)
      // Well before the writer's sleep, however loaded the machine: the server's timer ended it.
      #expect(elapsed >= .milliseconds(300) && elapsed < .seconds(15), "ended after \(elapsed)")

      let metrics = try server.exposition()
      let recorded = metrics.samples(named: "grpc_server_handled_total")
        .filter { $0.labels["grpc_method"] == "BidirectionalStreamingEcho" && $0.value > 0 }
        .map { "\($0.labels["grpc_code"] ?? "?")=\($0.value)" }
      #expect(recorded == ["DeadlineExceeded=1.0"])
      #expect(metrics.value("grpc_server_started_total", Self.bidi) == 1)
      #expect(metrics.value("grpc_server_msg_received_total", Self.bidi) == 1)
      #expect(metrics.value("grpc_server_msg_sent_total", Self.bidi) == 1)
    }
  }

  /// A message whose protobuf encoding is exactly `size` bytes (the server's limit applies to
  /// the serialized message).
  static func message(ofSerializedSize size: Int) -> Proto_Message {
    var message = Proto_Message(String(repeating: "x", count: size))
    while (try! message.serializedBytes() as [UInt8]).count > size {
      message.message.removeLast()
    }
    precondition((try! message.serializedBytes() as [UInt8]).count == size)
    return message
  }
}
