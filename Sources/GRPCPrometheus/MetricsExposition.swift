import Prometheus

/// Renders the body of a `/metrics` scrape from a registry, in the format the scraper asked for.
///
/// The HTTP server stays the caller's: hand the request's `Accept` header to
/// ``render(accept:)`` and answer with the returned content type and bytes.
public struct MetricsExposition: Sendable {
  private let registry: PrometheusCollectorRegistry
  private let processMetrics: ProcessMetrics?

  /// Creates an exposition of `registry`; `processMetrics`, registered in the same registry, is
  /// refreshed before every render.
  public init(registry: PrometheusCollectorRegistry, processMetrics: ProcessMetrics? = nil) {
    self.registry = registry
    self.processMetrics = processMetrics
  }

  /// The scrape response for a request with the given `Accept` header (`nil` when absent):
  /// OpenMetrics 1.0.0 when the header prefers it, the Prometheus text format 0.0.4 otherwise.
  ///
  /// Histogram bounds are written as Go writes them (`le="1"`, `le="2.5"`, `le="+Inf"`; in
  /// OpenMetrics `le="1.0"`), so queries and recording rules written against a Go service
  /// match series from this one label for label.
  public func render(accept: String?) -> (contentType: String, body: [UInt8]) {
    let format = ExpositionFormat.negotiate(accept: accept)
    return (format.contentType, self.render(format))
  }

  /// The scrape body in `format`.
  public func render(_ format: ExpositionFormat) -> [UInt8] {
    self.processMetrics?.update()
    var emitted: [UInt8] = []
    self.registry.emit(into: &emitted)
    return ExpositionRewriter(format: format).rewrite(emitted)
  }
}
