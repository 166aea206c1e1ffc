import Prometheus

/// One metric family: its full name and Go's HELP text. Series are created through it so each
/// name is always registered with the same help text; swift-prometheus traps on a mismatch.
struct GRPCMetricFamily: Sendable {
  let name: String
  let help: String

  init(_ name: String, help: String, configuration: GRPCMetricsConfiguration) {
    self.name = configuration.fullyQualifiedName(name)
    self.help = help
  }

  private var descriptor: MetricNameDescriptor {
    MetricNameDescriptor(metricName: self.name, unitName: "", helpText: self.help)
  }

  func counter(in registry: PrometheusCollectorRegistry, labels: [(String, String)]) -> Counter {
    registry.makeCounter(descriptor: self.descriptor, labels: labels)
  }

  /// A histogram of seconds, or `nil` when `buckets` is `nil` (the family is disabled).
  ///
  /// Value histograms, not duration histograms: their bounds render through `Double` and need
  /// only the `le` spelling fixed by ``MetricsExposition``.
  func histogram(
    in registry: PrometheusCollectorRegistry,
    labels: [(String, String)],
    buckets: [Double]?
  ) -> ValueHistogram? {
    guard let buckets else { return nil }
    return registry.makeValueHistogram(
      descriptor: self.descriptor, labels: labels, buckets: buckets)
  }
}
