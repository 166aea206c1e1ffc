import GRPCPrometheus
import Prometheus
import Testing

@Suite struct ClientMetricsTests {
  let registry = PrometheusCollectorRegistry()
  let unary = GRPCMethod(service: "proto.EchoService", method: "EchoService", type: .unary)
  let bidi = GRPCMethod(
    service: "proto.EchoService",
    method: "BidirectionalStreamingEcho",
    type: .bidiStream
  )

  func scrape() -> ParsedExposition {
    ParsedExposition(MetricsExposition(registry: self.registry).render(.prometheusText))
  }

  @Test func registeringCreatesEverySeriesAtZeroWithMessageHistogramsForStreamsOnly() {
    let metrics = ClientMetrics(registry: self.registry)
    _ = metrics.method(self.unary)
    _ = metrics.method(self.bidi)
    let scraped = self.scrape()

    for method in [self.unary, self.bidi] {
      let labels = goLabels(method)
      for name in [
        "grpc_client_started_total", "grpc_client_msg_received_total", "grpc_client_msg_sent_total",
      ] {
        #expect(scraped.samples[series(name, labels)] == 0, "\(name) \(method.type)")
      }
      for code in GRPCCode.allCases {
        let key = series("grpc_client_handled_total", goLabels(method, code: code.goName))
        #expect(scraped.samples[key] == 0, "\(key)")
      }
      #expect(scraped.samples[series("grpc_client_handling_seconds_count", labels)] == 0)
    }
    let bidiLabels = goLabels(self.bidi)
    let unaryLabels = goLabels(self.unary)
    for name in ["grpc_client_msg_send_handling_seconds", "grpc_client_msg_recv_handling_seconds"] {
      #expect(scraped.samples[series(name + "_count", bidiLabels)] == 0)
      #expect(scraped.samples[series(name + "_count", unaryLabels)] == nil)
    }
    // Per method: 3 counters, 17 codes, 14 handling series; bidi adds 2 × 14.
    #expect(scraped.samples.count == 2 * (3 + 17 + 14) + 28)
    #expect(
      scraped.helps["grpc_client_started_total"] == "Total number of RPCs started on the client.")
    #expect(
      scraped.helps["grpc_client_handled_total"]
        == "Total number of RPCs completed by the client, regardless of success or failure."
    )
    #expect(
      scraped.helps["grpc_client_msg_received_total"]
        == "Total number of RPC stream messages received by the client."
    )
    #expect(
      scraped.helps["grpc_client_msg_sent_total"]
        == "Total number of gRPC stream messages sent by the client."
    )
    #expect(
      scraped.helps["grpc_client_handling_seconds"]
        == "Histogram of response latency (seconds) of the gRPC until it is finished by the application."
    )
    #expect(
      scraped.helps["grpc_client_msg_recv_handling_seconds"]
        == "Histogram of response latency (seconds) of the gRPC single message receive."
    )
    #expect(
      scraped.helps["grpc_client_msg_send_handling_seconds"]
        == "Histogram of response latency (seconds) of the gRPC single message send."
    )
  }

  @Test func scriptedCallsAndMessageTimings() {
    let metrics = ClientMetrics(registry: self.registry)
    let unary = metrics.method(self.unary)
    let bidi = metrics.method(self.bidi)
    unary.started(); unary.sentMessage(); unary.receivedMessage()
    unary.handled(.ok, after: .milliseconds(4))
    unary.observeSend(.milliseconds(1))  // no histogram for unary: must not appear anywhere
    unary.started(); unary.handled(.unavailable, after: .milliseconds(1))
    bidi.started()
    bidi.sentMessage(); bidi.observeSend(.milliseconds(2))
    bidi.receivedMessage(); bidi.observeReceive(.milliseconds(30))
    bidi.handled(.deadlineExceeded, after: .milliseconds(1500))

    let samples = self.scrape().samples
    let u = goLabels(self.unary)
    let b = goLabels(self.bidi)
    #expect(samples[series("grpc_client_started_total", u)] == 2)
    #expect(samples[series("grpc_client_msg_sent_total", u)] == 1)
    #expect(samples[series("grpc_client_msg_received_total", u)] == 1)
    #expect(samples[series("grpc_client_handled_total", goLabels(self.unary, code: "OK"))] == 1)
    #expect(
      samples[series("grpc_client_handled_total", goLabels(self.unary, code: "Unavailable"))] == 1
    )
    #expect(
      samples[series("grpc_client_handled_total", goLabels(self.bidi, code: "DeadlineExceeded"))]
        == 1
    )
    #expect(samples[series("grpc_client_handling_seconds_bucket", b + [("le", "1")])] == 0)
    #expect(samples[series("grpc_client_handling_seconds_bucket", b + [("le", "2.5")])] == 1)
    #expect(
      samples[series("grpc_client_msg_send_handling_seconds_bucket", b + [("le", "0.005")])] == 1)
    #expect(
      samples[series("grpc_client_msg_recv_handling_seconds_bucket", b + [("le", "0.025")])] == 0)
    #expect(
      samples[series("grpc_client_msg_recv_handling_seconds_bucket", b + [("le", "0.05")])] == 1)
    #expect(samples[series("grpc_client_msg_send_handling_seconds_count", u)] == nil)
  }

  @Test func messageHistogramsCanBeDisabled() {
    var configuration = GRPCMetricsConfiguration.defaults
    configuration.clientMessageSendBuckets = nil
    configuration.clientMessageReceiveBuckets = [0.5]
    let bidi = ClientMetrics(registry: self.registry, configuration: configuration).method(
      self.bidi)
    bidi.observeSend(.milliseconds(1))
    bidi.observeReceive(.milliseconds(1))
    let scraped = self.scrape()
    #expect(scraped.types["grpc_client_msg_send_handling_seconds"] == nil)
    let labels = goLabels(self.bidi)
    #expect(
      scraped.samples[
        series("grpc_client_msg_recv_handling_seconds_bucket", labels + [("le", "0.5")])] == 1)
    #expect(bidi.sendSeconds == nil)
  }
}
