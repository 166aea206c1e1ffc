import GRPCPrometheus
import Testing

@Suite struct ExpositionFormatTests {
  @Test(
    arguments: [
      (nil, ExpositionFormat.prometheusText),
      ("", .prometheusText),
      ("*/*", .prometheusText),
      ("text/plain", .prometheusText),
      ("application/openmetrics-text", .openMetrics),
      ("application/openmetrics-text; version=1.0.0; charset=utf-8", .openMetrics),
      ("application/openmetrics-text;version=0.0.1", .prometheusText),
      // What Prometheus 2.42 sends.
      (
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
          + "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", .openMetrics
      ),
      ("text/plain;version=0.0.4;q=0.9, application/openmetrics-text;q=0.5", .prometheusText),
      ("text/plain;q=0.5, APPLICATION/OpenMetrics-Text;q=0.8", .openMetrics),
      ("application/openmetrics-text;q=0, */*", .prometheusText),
      ("application/json", .prometheusText),
    ] as [(String?, ExpositionFormat)])
  func negotiation(accept: String?, format: ExpositionFormat) {
    #expect(ExpositionFormat.negotiate(accept: accept) == format)
  }

  @Test func contentTypes() {
    #expect(
      ExpositionFormat.prometheusText.contentType == "text/plain; version=0.0.4; charset=utf-8")
    #expect(
      ExpositionFormat.openMetrics.contentType
        == "application/openmetrics-text; version=1.0.0; charset=utf-8"
    )
  }
}
