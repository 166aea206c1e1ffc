import TestSupport
import Testing

/// The gateway in front of a real EchoServer, both on loopback and ephemeral ports.
@Suite("EchoClient against a live EchoServer", .timeLimit(.minutes(1)))
struct GatewayLiveTests {
  let unary = [
    "grpc_service": "proto.EchoService", "grpc_method": "EchoService", "grpc_type": "unary",
  ]

  @Test("GET /echo?m=hello is the original's answer, byte for byte")
  func echo() async throws {
    try await TestServer.with { server in
      try await TestClient.with(serverPort: server.port) { client in
        let response = try await client.get("/echo?m=hello")
        #expect(response.status == 200)
        #expect(response.headers.map(\.name) == ["Content-Type", "Content-Length", "Connection"])
        #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(response.header("Content-Length") == "20")
        #expect(response.header("Connection") == "close")
        #expect(response.body == "Response: echo hello")
        #expect(try await client.get("/echo").body == "Response: echo ")
      }
    }
  }

  @Test("JSON: Accept header and POST body answer the reply, status, latency and replica")
  func json() async throws {
    try await TestServer.with { server in
      try await TestClient.with(serverPort: server.port) { client in
        let get = try await client.get(
          "/echo?m=%3Cb%3E", headers: [("Accept", "application/json")])
        #expect(get.status == 200)
        #expect(get.header("Content-Type") == "application/json")
        #expect(get.body.contains(#""reply":"echo <b>""#))
        #expect(get.body.contains(#""grpc_status":"OK""#))
        #expect(get.body.contains(#""latency_ms":"#))
        #expect(get.body.contains(#""replica":"127.0.0.1:\#(server.port)""#))
        let post = try await client.request("POST", "/echo", body: #"{"message":"posted"}"#)
        #expect(post.status == 200)
        #expect(post.body.contains(#""reply":"echo posted""#))
      }
    }
  }

  @Test("server stopped: 503 naming UNAVAILABLE; counted as started and handled")
  func unavailable() async throws {
    let server = try await TestServer.start()
    try await TestClient.with(serverPort: server.port) { client in
      await server.server.shutdown()
      let response = try await client.get("/echo?m=a")
      #expect(response.status == 503)
      #expect(response.body.hasPrefix("Error: gRPC status UNAVAILABLE (14): "))
      let metrics = try client.exposition()
      #expect(metrics.value("grpc_client_started_total", self.unary) == 1)
      #expect(
        metrics.value("grpc_client_handled_total", self.unary.adding(["grpc_code": "Unavailable"]))
          == 1)
    }
  }

  @Test("deadline: a 1 µs deadline is 504 naming DEADLINE_EXCEEDED")
  func deadline() async throws {
    try await TestServer.with { server in
      try await TestClient.with(
        serverPort: server.port, { $0.channel.defaultDeadline = .microseconds(1) }
      ) {
        client in
        let response = try await client.get("/echo?m=a")
        #expect(response.status == 504)
        #expect(response.body.hasPrefix("Error: gRPC status DEADLINE_EXCEEDED (4): "))
      }
    }
  }

  @Test(
    "oversized: the server's RESOURCE_EXHAUSTED is 413; over the gateway's limit, 413 with no call")
  func oversized() async throws {
    try await TestServer.with({ $0.runtime.maxReceiveMessageSize = 50 }) { server in
      try await TestClient.with(serverPort: server.port, { $0.maxMessageBytes = 200 }) { client in
        let refusedByServer = try await client.get("/echo?m=" + String(repeating: "x", count: 100))
        #expect(refusedByServer.status == 413)
        #expect(refusedByServer.body.contains("RESOURCE_EXHAUSTED"))
        let refusedHere = try await client.get("/echo?m=" + String(repeating: "x", count: 201))
        #expect(refusedHere.status == 413)
        #expect(try client.exposition().value("grpc_client_started_total", self.unary) == 1)
      }
    }
  }

  @Test("recovery: answers again within about a second after the server restarts")
  func recovery() async throws {
    let first = try await TestServer.start()
    let port = first.port
    try await TestClient.with(serverPort: port) { client in
      #expect(try await client.get("/echo?m=a").status == 200)
      await first.server.shutdown()
      #expect(try await client.get("/echo?m=a").status == 503)
      try await Task.sleep(for: .seconds(1))  // The backoff grows while the server is away.
      let second = try await TestServer.start(reusingPort: port)
      let restarted = ContinuousClock.now
      var status = 0
      while status != 200, ContinuousClock.now - restarted < .seconds(3) {
        status = try await client.get("/echo?m=a").status
        if status != 200 { try await Task.sleep(for: .milliseconds(20)) }
      }
      let recoveredAfter = ContinuousClock.now - restarted
      await second.server.shutdown()
      #expect(status == 200)
      #expect(recoveredAfter < .milliseconds(1300))
    }
  }

  @Test("client metrics are exact after a scripted workload")
  func metrics() async throws {
    let server = try await TestServer.start()
    try await TestClient.with(serverPort: server.port) { client in
      for message in ["a", "b", "c"] {
        #expect(try await client.get("/echo?m=\(message)").status == 200)
      }
      await server.server.shutdown()
      for _ in 0..<2 {
        #expect(try await client.get("/echo?m=x").status == 503)
      }
      // Unknown methods and paths share the `other` labels.
      #expect(try await client.request("DELETE", "/nope").status == 404)
      let wrongMethod = try await client.request("PUT", "/echo")
      #expect(wrongMethod.status == 405)
      #expect(wrongMethod.header("Allow") == "GET, HEAD, POST")
      let scrape = try await client.get("/metrics")
      #expect(scrape.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
      let metrics = try ParsedExposition(scrape.body)
      #expect(metrics.value("grpc_client_started_total", self.unary) == 5)
      #expect(metrics.value("grpc_client_msg_sent_total", self.unary) == 3)
      #expect(metrics.value("grpc_client_msg_received_total", self.unary) == 3)
      #expect(
        metrics.value("grpc_client_handled_total", self.unary.adding(["grpc_code": "OK"])) == 3)
      #expect(
        metrics.value("grpc_client_handled_total", self.unary.adding(["grpc_code": "Unavailable"]))
          == 2)
      #expect(metrics.value("grpc_client_handling_seconds_count", self.unary) == 5)
      let bidi = [
        "grpc_service": "proto.EchoService", "grpc_method": "BidirectionalStreamingEcho",
        "grpc_type": "bidi_stream",
      ]
      #expect(
        metrics.value("grpc_client_handled_total", bidi.adding(["grpc_code": "Unknown"])) == 0)
      let ok = ["method": "GET", "route": "/echo", "status": "200"]
      #expect(metrics.value("http_requests_total", ok) == 3)
      #expect(metrics.value("http_requests_total", ok.adding(["status": "503"])) == 2)
      #expect(
        metrics.value("http_request_duration_seconds_count", ["method": "GET", "route": "/echo"])
          == 5)
      let other = ["method": "other", "route": "other", "status": "404"]
      #expect(metrics.value("http_requests_total", other) == 1)
      #expect(
        metrics.value(
          "http_requests_total", ["method": "other", "route": "/echo", "status": "405"])
          == 1)
      #expect(
        metrics.value("http_request_duration_seconds_count", ["method": "other", "route": "other"])
          == 1)
      #expect(metrics.value("process_start_time_seconds") ?? 0 > 0)
    }
  }

  @Test("round robin: two servers each answer half of the calls")
  func roundRobin() async throws {
    try await TestServer.with { a in
      try await TestServer.with { b in
        try await TestClient.with(serverPort: a.port, otherServerPorts: [b.port]) { client in
          for _ in 0..<10 {
            let response = try await client.get("/echo?m=rr")
            #expect(response.status == 200)
          }
        }
        let handled = self.unary.adding(["grpc_code": "OK"])
        #expect(try a.exposition().value("grpc_server_handled_total", handled) == 5)
        #expect(try b.exposition().value("grpc_server_handled_total", handled) == 5)
      }
    }
  }

  @Test("/healthz, /readyz, /stats and the page")
  func endpoints() async throws {
    try await TestServer.with { server in
      try await TestClient.with(serverPort: server.port) { client in
        #expect(try await client.get("/healthz").body == "ok\n")
        let ready = try await client.get("/readyz")
        #expect(ready.status == 200)
        #expect(ready.body == "ready\n")
        let page = try await client.get("/")
        #expect(page.header("Content-Type") == "text/html; charset=utf-8")
        #expect(page.body.contains("<form id=\"send\""))
        #expect(page.body.contains("http://localhost:9090"))
        _ = try await client.get("/echo?m=s")
        let stats = try await client.get("/stats")
        #expect(stats.body.contains(#""requests":1"#))
        #expect(stats.body.contains(#""history":[{"errors":0,"#))
      }
      server.server.health.enterDraining()
      try await TestClient.with(serverPort: server.port) { client in
        let response = try await client.get("/readyz")
        #expect(response.status == 503)
      }
    }
  }
}

extension [String: String] {
  fileprivate func adding(_ other: [String: String]) -> [String: String] {
    self.merging(other) { _, new in new }
  }
}
