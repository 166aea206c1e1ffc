import NIOConcurrencyHelpers
import NIOHTTP1
import Prometheus

/// The gateway's own HTTP metrics, in the names Prometheus' Go HTTP instrumentation uses:
/// `http_requests_total{method,route,status}` and
/// `http_request_duration_seconds{method,route}`. Routes are the served paths or `other`, and
/// methods the common ones or `other`, so the label sets stay bounded whatever clients send.
public final class HTTPServerMetrics: Sendable {
  private static let methods = ["GET", "HEAD", "POST"]
  private static var requests: MetricNameDescriptor {
    MetricNameDescriptor(
      metricName: "http_requests_total", unitName: "",
      helpText: "Total number of HTTP requests by method, route and status.")
  }
  private static var duration: MetricNameDescriptor {
    MetricNameDescriptor(
      metricName: "http_request_duration_seconds", unitName: "",
      helpText: "Histogram of HTTP request latencies in seconds.")
  }

  private let registry: PrometheusCollectorRegistry
  /// The served routes; a label set is found by the positions of its method and route in
  /// `methods + ["other"]` and `routes + ["other"]`, with no hashing of label strings.
  private let routes: [String]
  /// One duration histogram per method and route, all registered at start-up.
  private let histograms: [ValueHistogram]
  /// Request counters by method, route and status, made on first use (statuses are not known
  /// in advance).
  private let counters = NIOLockedValueBox<[Int: Counter]>([:])

  /// Registers the families; the duration histograms of every served route exist at once.
  public init(registry: PrometheusCollectorRegistry, routes: [String], buckets: [Double]) {
    self.registry = registry
    self.routes = routes
    self.histograms = (Self.methods + ["other"]).flatMap { method in
      (routes + ["other"]).map { route in
        registry.makeValueHistogram(
          descriptor: Self.duration, labels: [("method", method), ("route", route)],
          buckets: buckets)
      }
    }
  }

  /// Records one answered request.
  public func record(method: HTTPMethod, path: String, status: Int, duration: Duration) {
    let methodIndex = Self.methods.firstIndex(of: method.rawValue) ?? Self.methods.count
    let routeIndex = self.routes.firstIndex(of: path) ?? self.routes.count
    let series = methodIndex * (self.routes.count + 1) + routeIndex
    let counter = self.counters.withLockedValue { counters in
      let key = series << 16 | status & 0xFFFF
      if let counter = counters[key] { return counter }
      let counter = self.registry.makeCounter(
        descriptor: Self.requests,
        labels: [
          ("method", methodIndex < Self.methods.count ? Self.methods[methodIndex] : "other"),
          ("route", routeIndex < self.routes.count ? self.routes[routeIndex] : "other"),
          ("status", String(status)),
        ])
      counters[key] = counter
      return counter
    }
    counter.increment()
    self.histograms[series].record(duration / .seconds(1))
  }
}
