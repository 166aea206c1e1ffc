import NIOConcurrencyHelpers
import Prometheus

/// The go-grpc-prometheus server metrics, registered in a swift-prometheus registry.
///
/// Register every method the server serves with ``method(_:)`` before traffic arrives, so each
/// series (all 17 codes of `grpc_server_handled_total` included) is exposed at 0 from the first
/// scrape, as Go's `InitializeMetrics` does; `rate()` over a series that appears late misses
/// its first increments.
///
/// Two instances on one registry share series; they must use the same configuration, since
/// swift-prometheus traps when a family is redefined with other buckets.
public final class ServerMetrics: Sendable {
  private let registry: PrometheusCollectorRegistry
  private let configuration: GRPCMetricsConfiguration
  private let started: GRPCMetricFamily
  private let handled: GRPCMetricFamily
  private let received: GRPCMetricFamily
  private let sent: GRPCMetricFamily
  private let handlingSeconds: GRPCMetricFamily
  private let methods = NIOLockedValueBox<[GRPCMethod: ServerMethodMetrics]>([:])

  /// Creates the server metrics; nothing is exposed until a method is registered.
  public init(
    registry: PrometheusCollectorRegistry,
    configuration: GRPCMetricsConfiguration = .defaults
  ) {
    self.registry = registry
    self.configuration = configuration
    self.started = GRPCMetricFamily(
      "grpc_server_started_total",
      help: "Total number of RPCs started on the server.",
      configuration: configuration
    )
    self.handled = GRPCMetricFamily(
      "grpc_server_handled_total",
      help: "Total number of RPCs completed on the server, regardless of success or failure.",
      configuration: configuration
    )
    self.received = GRPCMetricFamily(
      "grpc_server_msg_received_total",
      help: "Total number of RPC stream messages received on the server.",
      configuration: configuration
    )
    self.sent = GRPCMetricFamily(
      "grpc_server_msg_sent_total",
      help: "Total number of gRPC stream messages sent by the server.",
      configuration: configuration
    )
    self.handlingSeconds = GRPCMetricFamily(
      "grpc_server_handling_seconds",
      help: "Histogram of response latency (seconds) of gRPC that had been application-level "
        + "handled by the server.",
      configuration: configuration
    )
  }

  /// The series of `method`, created at 0 on the first call and returned unchanged afterwards.
  public func method(_ method: GRPCMethod) -> ServerMethodMetrics {
    self.methods.withLockedValue { methods in
      if let existing = methods[method] {
        return existing
      }
      let created = self.makeSeries(for: method)
      methods[method] = created
      return created
    }
  }

  private func makeSeries(for method: GRPCMethod) -> ServerMethodMetrics {
    let constant = self.configuration.constantLabels
    let labels = method.labels(constant: constant)
    return ServerMethodMetrics(
      started: self.started.counter(in: self.registry, labels: labels),
      received: self.received.counter(in: self.registry, labels: labels),
      sent: self.sent.counter(in: self.registry, labels: labels),
      handled: GRPCCode.allCases.map { code in
        self.handled.counter(
          in: self.registry,
          labels: method.labels(constant: constant, code: code)
        )
      },
      handlingSeconds: self.handlingSeconds.histogram(
        in: self.registry,
        labels: labels,
        buckets: self.configuration.handlingTimeBuckets
      )
    )
  }
}
