import ProtoMessages
import ProtoStubs
import TestSupport
import Testing

/// HTTP/1.1 on the gRPC port: the Prometheus scrape and the health probe.
@Suite("HTTP/1.1 endpoints", .timeLimit(.minutes(1)))
struct HTTP1EndpointTests {
  @Test("GET /metrics is 200 in the Prometheus text format and counts gRPC traffic")
  func metrics() async throws {
    try await TestServer.with { server in
      _ = try await withEchoClient(server) { echo in
        try await echo.echoService(Proto_Message("scraped"), options: .test())
      }
      let response = try await server.get("/metrics")
      #expect(response.status == 200)
      #expect(response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
      let scraped = try ParsedExposition(response.body)
      let unary = [
        "grpc_service": "proto.EchoService", "grpc_method": "EchoService", "grpc_type": "unary",
      ]
      #expect(scraped.value("grpc_server_started_total", unary) == 1)
      #expect(scraped.value("grpc_server_handled_total", unary.adding(["grpc_code": "OK"])) == 1)
      #expect(scraped.types["grpc_server_handling_seconds"] == "histogram")
    }
  }

  @Test("GET /metrics with a query string is still the scrape")
  func metricsQuery() async throws {
    try await TestServer.with { server in
      let response = try await server.get("/metrics?name[]=up")
      #expect(response.status == 200)
      #expect(response.body.contains("grpc_server_started_total"))
    }
  }

  @Test("GET /healthz is 200 ok")
  func healthz() async throws {
    try await TestServer.with { server in
      let response = try await server.get("/healthz")
      #expect(response.status == 200)
      #expect(response.body == "ok\n")
    }
  }

  @Test("an unknown path is 404 with a body naming the served paths")
  func notFound() async throws {
    try await TestServer.with { server in
      let response = try await server.get("/x")
      #expect(response.status == 404)
      #expect(response.body.contains("/x"))
      #expect(response.body.contains("/metrics"))
      #expect(response.body.contains("/healthz"))
    }
  }

  @Test("POST /metrics is 405 with Allow")
  func methodNotAllowed() async throws {
    try await TestServer.with { server in
      let response = try await HTTP1TestClient.request(
        "POST", "/metrics", host: server.host, port: server.port,
        headers: [("Content-Length", "0")])
      #expect(response.status == 405)
      #expect(response.header("Allow") == "GET, HEAD")
    }
  }
}
