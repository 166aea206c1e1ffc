import NIOHTTP1
import Prometheus
import Synchronization

/// The gateway's own HTTP metrics, in the names Prometheus' Go HTTP instrumentation uses:
/// `http_requests_total{method,route,status}` and
/// `http_request_duration_seconds{method,route}`. Routes are the served paths or `other`, and
/// methods the common ones or `other`, so the label sets stay bounded whatever clients send.
public final class HTTPServerMetrics: Sendable {
  private struct SeriesKey: Hashable {
    var method: String
    var route: String
    var status: Int
  }

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
  private let buckets: [Double]
  private let counters = Mutex<[SeriesKey: Counter]>([:])
  private let histograms: [String: ValueHistogram]
  private let routes: Set<String>

  /// Registers the families; the duration histograms of every served route exist at once.
  public init(registry: PrometheusCollectorRegistry, routes: [String], buckets: [Double]) {
    self.registry = registry
    self.buckets = buckets
    var histograms: [String: ValueHistogram] = [:]
    for method in Self.methods + ["other"] {
      for route in routes + ["other"] {
        histograms[method + " " + route] = registry.makeValueHistogram(
          descriptor: Self.duration, labels: [("method", method), ("route", route)],
          buckets: buckets)
      }
    }
    self.histograms = histograms
    self.routes = Set(routes)
  }

  /// Records one answered request.
  public func record(method: HTTPMethod, path: String, status: Int, duration: Duration) {
    let methodLabel = Self.methods.contains(method.rawValue) ? method.rawValue : "other"
    let route = self.routes.contains(path) ? path : "other"
    let key = SeriesKey(method: methodLabel, route: route, status: status)
    let counter = self.counters.withLock { counters in
      if let counter = counters[key] { return counter }
      let counter = self.registry.makeCounter(
        descriptor: Self.requests,
        labels: [("method", methodLabel), ("route", route), ("status", String(status))])
      counters[key] = counter
      return counter
    }
    counter.increment()
    self.histograms[methodLabel + " " + route]?.record(duration.secondsValue)
  }
}
