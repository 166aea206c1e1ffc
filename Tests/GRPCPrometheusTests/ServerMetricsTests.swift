import GRPCPrometheus
import Prometheus
import Testing

@Suite struct ServerMetricsTests {
  let registry = PrometheusCollectorRegistry()
  let unary = GRPCMethod(service: "proto.EchoService", method: "EchoService", type: .unary)

  func scrape() -> ParsedExposition {
    ParsedExposition(MetricsExposition(registry: self.registry).render(.prometheusText))
  }

  @Test func nothingIsExposedBeforeAMethodIsRegistered() {
    _ = ServerMetrics(registry: self.registry)
    #expect(self.scrape().samples.isEmpty)
  }

  @Test func registeringAMethodCreatesEverySeriesAtZero() {
    _ = ServerMetrics(registry: self.registry).method(self.unary)
    let labels = goLabels(self.unary)
    var expected: [String: Double] = [
      series("grpc_server_started_total", labels): 0,
      series("grpc_server_msg_received_total", labels): 0,
      series("grpc_server_msg_sent_total", labels): 0,
    ]
    for code in GRPCCode.allCases {
      expected[series("grpc_server_handled_total", goLabels(self.unary, code: code.goName))] = 0
    }
    expected.merge(
      histogramSeries(
        "grpc_server_handling_seconds",
        labels,
        buckets: goDefaultBounds.map { ($0, 0) },
        sum: 0,
        count: 0
      )
    ) { $1 }

    let scraped = self.scrape()
    #expect(sameSeries(scraped.samples, expected) == [])
    #expect(scraped.samples.count == 3 + 17 + 14)
    #expect(scraped.types["grpc_server_started_total"] == "counter")
    #expect(scraped.types["grpc_server_handled_total"] == "counter")
    #expect(scraped.types["grpc_server_handling_seconds"] == "histogram")
    #expect(
      scraped.helps["grpc_server_started_total"] == "Total number of RPCs started on the server.")
    #expect(
      scraped.helps["grpc_server_handled_total"]
        == "Total number of RPCs completed on the server, regardless of success or failure."
    )
    #expect(
      scraped.helps["grpc_server_msg_received_total"]
        == "Total number of RPC stream messages received on the server."
    )
    #expect(
      scraped.helps["grpc_server_msg_sent_total"]
        == "Total number of gRPC stream messages sent by the server."
    )
    #expect(
      scraped.helps["grpc_server_handling_seconds"]
        == "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server."
    )
  }

  @Test func registeringTwiceReturnsTheSameHandles() {
    let metrics = ServerMetrics(registry: self.registry)
    let first = metrics.method(self.unary)
    let second = metrics.method(self.unary)
    #expect(first.startedCounter === second.startedCounter)
    #expect(zip(first.handledCounters, second.handledCounters).allSatisfy { $0 === $1 })
    #expect(first.handlingSeconds === second.handlingSeconds)
    // Another ServerMetrics on the same registry shares the series instead of trapping.
    let other = ServerMetrics(registry: self.registry).method(self.unary)
    #expect(other.startedCounter === first.startedCounter)
    #expect(self.scrape().samples.count == 3 + 17 + 14)
  }

  @Test func scriptedCallsOfEveryTypeLandInTheirSeries() {
    let metrics = ServerMetrics(registry: self.registry)
    let methods = GRPCType.allCases.map {
      GRPCMethod(service: "proto.EchoService", method: "M_\($0.rawValue)", type: $0)
    }
    let (unary, clientStream, serverStream, bidi) = (
      metrics.method(methods[0]), metrics.method(methods[1]), metrics.method(methods[2]),
      metrics.method(methods[3])
    )
    // Unary OK, unary NotFound (nothing sent), unary deadline.
    unary.started(); unary.receivedMessage(); unary.sentMessage()
    unary.handled(.ok, after: .milliseconds(3))
    unary.started(); unary.receivedMessage(); unary.handled(.notFound, after: .milliseconds(20))
    unary.started(); unary.receivedMessage(); unary.handled(.deadlineExceeded, after: .seconds(2))
    // Client stream: three in, one out.
    clientStream.started()
    for _ in 0..<3 { clientStream.receivedMessage() }
    clientStream.sentMessage(); clientStream.handled(.ok, after: .milliseconds(60))
    // Server stream: one in, two out, then cancelled by the client.
    serverStream.started(); serverStream.receivedMessage()
    serverStream.sentMessage(); serverStream.sentMessage()
    serverStream.handled(.canceled, after: .milliseconds(300))
    // Bidi: two each way, ends with an internal error.
    bidi.started()
    for _ in 0..<2 { bidi.receivedMessage(); bidi.sentMessage() }
    bidi.handled(.internalError, after: .seconds(12))

    let samples = self.scrape().samples
    func value(_ name: String, _ method: GRPCMethod, code: String? = nil) -> Double? {
      samples[series(name, goLabels(method, code: code))]
    }
    let expectations: [(GRPCMethod, started: Double, received: Double, sent: Double)] = [
      (methods[0], 3, 3, 1), (methods[1], 1, 3, 1), (methods[2], 1, 1, 2), (methods[3], 1, 2, 2),
    ]
    for (method, started, received, sent) in expectations {
      #expect(value("grpc_server_started_total", method) == started, "\(method)")
      #expect(value("grpc_server_msg_received_total", method) == received, "\(method)")
      #expect(value("grpc_server_msg_sent_total", method) == sent, "\(method)")
    }
    let handled: [(GRPCMethod, [String: Double])] = [
      (methods[0], ["OK": 1, "NotFound": 1, "DeadlineExceeded": 1]),
      (methods[1], ["OK": 1]), (methods[2], ["Canceled": 1]), (methods[3], ["Internal": 1]),
    ]
    for (method, counts) in handled {
      for code in GRPCCode.allCases {
        let got = value("grpc_server_handled_total", method, code: code.goName)
        #expect(got == counts[code.goName] ?? 0, "\(method) \(code.goName)")
      }
    }
    let unaryHistogram = goLabels(methods[0])
    #expect(samples[series("grpc_server_handling_seconds_count", unaryHistogram)] == 3)
    #expect(
      samples[series("grpc_server_handling_seconds_bucket", unaryHistogram + [("le", "0.005")])]
        == 1)
    #expect(
      samples[series("grpc_server_handling_seconds_bucket", unaryHistogram + [("le", "0.025")])]
        == 2)
    #expect(
      samples[series("grpc_server_handling_seconds_bucket", unaryHistogram + [("le", "1")])] == 2)
    #expect(
      samples[series("grpc_server_handling_seconds_bucket", unaryHistogram + [("le", "2.5")])] == 3)
    let bidiHistogram = goLabels(methods[3])
    #expect(
      samples[series("grpc_server_handling_seconds_bucket", bidiHistogram + [("le", "10")])] == 0)
    #expect(
      samples[series("grpc_server_handling_seconds_bucket", bidiHistogram + [("le", "+Inf")])] == 1)
    #expect(samples[series("grpc_server_handling_seconds_sum", bidiHistogram)] == 12)
  }

  @Test func disabledHistogramsAndPrefixesAndConstantLabels() {
    var configuration = GRPCMetricsConfiguration.defaults
    configuration.namespace = "shop"
    configuration.constantLabels = ["replica": "b", "app": "echo"]
    configuration.handlingTimeBuckets = nil
    let metrics = ServerMetrics(registry: self.registry, configuration: configuration)
    metrics.method(self.unary).started()

    let scraped = self.scrape()
    #expect(
      scraped.types.keys.sorted() == [
        "shop_grpc_server_handled_total", "shop_grpc_server_msg_received_total",
        "shop_grpc_server_msg_sent_total", "shop_grpc_server_started_total",
      ])
    let labels = [("app", "echo")] + goLabels(self.unary) + [("replica", "b")]
    #expect(scraped.samples[series("shop_grpc_server_started_total", labels)] == 1)
    let handledLabels =
      [("app", "echo"), ("grpc_code", "Unavailable")] + goLabels(self.unary) + [("replica", "b")]
    #expect(scraped.samples[series("shop_grpc_server_handled_total", handledLabels)] == 0)
  }
}
