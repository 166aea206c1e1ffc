import GRPCCore
import ProtoMessages
import ProtoStubs
import TestSupport
import Testing

/// `grpc.health.v1.Health/Check` through the generated client, and `/healthz` alongside it.
@Suite("Health", .timeLimit(.minutes(1)))
struct HealthTests {
  @Test("the server and proto.EchoService are SERVING; an unknown service is NOT_FOUND")
  func check() async throws {
    try await TestServer.with { server in
      let statuses = try await withGRPCTestClient(server) { client in
        let health = HealthClient(wrapping: client)
        var statuses: [Grpc_Health_V1_HealthCheckResponse.ServingStatus] = []
        for service in ["", "proto.EchoService"] {
          statuses.append(
            try await health.check(.with { $0.service = service }, options: .test()).status)
        }
        return statuses
      }
      #expect(statuses == [.serving, .serving])

      let error = await #expect(throws: RPCError.self) {
        try await withGRPCTestClient(server) { client in
          try await HealthClient(wrapping: client).check(
            .with { $0.service = "no.such.Service" }, options: .test())
        }
      }
      #expect(error?.code == .notFound)
    }
  }

  @Test("after enterDraining, Check answers NOT_SERVING and /healthz 503")
  func draining() async throws {
    try await TestServer.with { server in
      server.server.health.enterDraining()
      let statuses = try await withGRPCTestClient(server) { client in
        let health = HealthClient(wrapping: client)
        var statuses: [Grpc_Health_V1_HealthCheckResponse.ServingStatus] = []
        for service in ["", "proto.EchoService"] {
          statuses.append(
            try await health.check(.with { $0.service = service }, options: .test()).status)
        }
        return statuses
      }
      #expect(statuses == [.notServing, .notServing])
      let healthz = try await server.get("/healthz")
      #expect(healthz.status == 503)
      #expect(healthz.body == "draining\n")
    }
  }
}
