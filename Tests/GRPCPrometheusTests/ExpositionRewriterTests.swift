import Prometheus
import Testing

@testable import GRPCPrometheus

@Suite struct ExpositionRewriterTests {
  func rewrite(_ text: String, _ format: ExpositionFormat) -> String {
    String(decoding: ExpositionRewriter(format: format).rewrite(Array(text.utf8)), as: UTF8.self)
  }

  @Test func onlyLeLabelValuesAreRespelled() {
    let input = #"""
      # HELP h A histogram, "le=1.0" in help stays.
      # TYPE h histogram
      h_bucket{handle="1.0",x="a,le=\"5.0",le="1.0"} 3
      h_bucket{le="+Inf"} 4
      h_sum 1.0
      h_count 4
      g{le_x="2.0",y="le=\"3.0\""} 1.0

      """#
    let expected = #"""
      # HELP h A histogram, "le=1.0" in help stays.
      # TYPE h histogram
      h_bucket{handle="1.0",x="a,le=\"5.0",le="1"} 3
      h_bucket{le="+Inf"} 4
      h_sum 1.0
      h_count 4
      g{le_x="2.0",y="le=\"3.0\""} 1.0

      """#
    #expect(self.rewrite(input, .prometheusText) == expected)
  }

  @Test func malformedLabelSetsAreCopiedVerbatim() {
    let input =
      "# TYPE a histogram\na_bucket{le=\"1.0\",broken 1\na_bucket{le=\"2.0 3\na_bucket{le=\"10.0\"} 5\n"
    #expect(
      self.rewrite(input, .prometheusText)
        == "# TYPE a histogram\na_bucket{le=\"1\",broken 1\na_bucket{le=\"2.0 3\na_bucket{le=\"10\"} 5\n"
    )
  }

  @Test func leOutsideHistogramBucketsKeepsItsValue() {
    let input =
      "# TYPE g gauge\ng{le=\"1.0\"} 1\n# TYPE h histogram\nh_sum{le=\"1.0\"} 1\nh_bucket{le=\"1.0\"} 1\n"
    #expect(
      self.rewrite(input, .prometheusText)
        == "# TYPE g gauge\ng{le=\"1.0\"} 1\n# TYPE h histogram\nh_sum{le=\"1.0\"} 1\nh_bucket{le=\"1\"} 1\n"
    )
  }

  @Test func emptyLinesAreDroppedAndTheLastLineEndsWithANewline() {
    #expect(self.rewrite("a 1", .prometheusText) == "a 1\n")
    #expect(
      self.rewrite("\n# TYPE b histogram\n\n\nb_bucket{le=\"5.0\"} 2", .prometheusText)
        == "# TYPE b histogram\nb_bucket{le=\"5\"} 2\n")
    #expect(
      self.rewrite("# HELP x X.\n# a comment\nx 1\n# another", .openMetrics)
        == "# HELP x X.\nx 1\n# EOF\n")
  }

  @Test func everySeriesOfAHistogramGetsTheSameSpelling() {
    let series =
      ["# TYPE h histogram\n"]
      + (0..<3).map {
        "h_bucket{i=\"\($0)\",le=\"1000000.0\"} 1\nh_bucket{i=\"\($0)\",le=\"0.25\"} 1\n"
      }
    let expected =
      ["# TYPE h histogram\n"]
      + (0..<3).map {
        "h_bucket{i=\"\($0)\",le=\"1e+06\"} 1\nh_bucket{i=\"\($0)\",le=\"0.25\"} 1\n"
      }
    #expect(self.rewrite(series.joined(), .prometheusText) == expected.joined())
    let longBound = "# TYPE h histogram\nh_bucket{le=\"12345678.0\"} 1\n"
    #expect(
      self.rewrite(longBound, .openMetrics)
        == "# TYPE h histogram\nh_bucket{le=\"1.2345678e+07\"} 1\n# EOF\n")
  }

  @Test func openMetricsNamesCounterFamiliesWithoutTotalAndEndsWithEOF() {
    let input = """
      # HELP requests_total Requests "served".
      # TYPE requests_total counter
      requests_total{code="OK"} 2
      # TYPE legacy counter
      legacy 1
      # HELP temperature Current temperature.
      # TYPE temperature gauge
      temperature 21.5
      # HELP latency_seconds Latency.
      # TYPE latency_seconds histogram
      latency_seconds_bucket{le="1.0"} 1
      latency_seconds_bucket{le="+Inf"} 1
      latency_seconds_sum 0.5
      latency_seconds_count 1

      """
    let expected = """
      # HELP requests Requests \\"served\\".
      # TYPE requests counter
      requests_total{code="OK"} 2
      # TYPE legacy counter
      legacy_total 1
      # HELP temperature Current temperature.
      # TYPE temperature gauge
      temperature 21.5
      # HELP latency_seconds Latency.
      # TYPE latency_seconds histogram
      latency_seconds_bucket{le="1.0"} 1
      latency_seconds_bucket{le="+Inf"} 1
      latency_seconds_sum 0.5
      latency_seconds_count 1
      # EOF

      """
    #expect(self.rewrite(input, .openMetrics) == expected)
  }

  @Test func emptyRegistryRendersEmptyTextAndABareEOF() {
    let exposition = MetricsExposition(registry: PrometheusCollectorRegistry())
    #expect(exposition.render(.prometheusText) == [])
    #expect(exposition.render(.openMetrics) == Array("# EOF\n".utf8))
  }

  @Test func renderedRegistryInOpenMetrics() {
    let registry = PrometheusCollectorRegistry()
    ServerMetrics(registry: registry)
      .method(GRPCMethod(service: "s.S", method: "M", type: .unary))
      .handled(.ok, after: .seconds(1))
    let rendered = MetricsExposition(registry: registry)
      .render(accept: "application/openmetrics-text; version=1.0.0")
    #expect(rendered.contentType == "application/openmetrics-text; version=1.0.0; charset=utf-8")
    let text = String(decoding: rendered.body, as: UTF8.self)
    #expect(text.hasSuffix("\n# EOF\n"))
    #expect(text.contains("# TYPE grpc_server_handled counter\n"))
    #expect(
      text.contains("# HELP grpc_server_started Total number of RPCs started on the server.\n"))
    #expect(
      text.contains(
        #"grpc_server_handled_total{grpc_code="OK",grpc_method="M",grpc_service="s.S",grpc_type="unary"} 1"#
      ))
    #expect(text.contains(#"grpc_type="unary",le="1.0"} 1"#))
    #expect(text.contains(#"grpc_type="unary",le="0.5"} 0"#))
    #expect(!text.contains("# TYPE grpc_server_handled_total"))
  }
}
