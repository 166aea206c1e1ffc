import NIOConcurrencyHelpers
import Prometheus

/// The go-grpc-prometheus client metrics, registered in a swift-prometheus registry.
///
/// Unlike Go, which creates client series on the first call, registering a method with
/// ``method(_:)`` exposes all of its series at 0 at once: an alert on
/// `grpc_client_handled_total{grpc_code="Unavailable"}` then works before the first failure.
/// The per-message histograms exist for streaming methods only, because Go observes them only
/// there; a unary method would show them forever empty.
///
/// Two instances on one registry share series; they must use the same configuration, since
/// swift-prometheus traps when a family is redefined with other buckets.
public final class ClientMetrics: Sendable {
  private let registry: PrometheusCollectorRegistry
  private let configuration: GRPCMetricsConfiguration
  private let started: GRPCMetricFamily
  private let handled: GRPCMetricFamily
  private let received: GRPCMetricFamily
  private let sent: GRPCMetricFamily
  private let handlingSeconds: GRPCMetricFamily
  private let receiveSeconds: GRPCMetricFamily
  private let sendSeconds: GRPCMetricFamily
  private let methods = NIOLockedValueBox<[GRPCMethod: ClientMethodMetrics]>([:])

  /// Creates the client metrics; nothing is exposed until a method is registered.
  public init(
    registry: PrometheusCollectorRegistry,
    configuration: GRPCMetricsConfiguration = .defaults
  ) {
    self.registry = registry
    self.configuration = configuration
    self.started = GRPCMetricFamily(
      "grpc_client_started_total",
      help: "Total number of RPCs started on the client.",
      configuration: configuration
    )
    self.handled = GRPCMetricFamily(
      "grpc_client_handled_total",
      help: "Total number of RPCs completed by the client, regardless of success or failure.",
      configuration: configuration
    )
    self.received = GRPCMetricFamily(
      "grpc_client_msg_received_total",
      help: "Total number of RPC stream messages received by the client.",
      configuration: configuration
    )
    self.sent = GRPCMetricFamily(
      "grpc_client_msg_sent_total",
      help: "Total number of gRPC stream messages sent by the client.",
      configuration: configuration
    )
    self.handlingSeconds = GRPCMetricFamily(
      "grpc_client_handling_seconds",
      help: "Histogram of response latency (seconds) of the gRPC until it is finished by the "
        + "application.",
      configuration: configuration
    )
    self.receiveSeconds = GRPCMetricFamily(
      "grpc_client_msg_recv_handling_seconds",
      help: "Histogram of response latency (seconds) of the gRPC single message receive.",
      configuration: configuration
    )
    self.sendSeconds = GRPCMetricFamily(
      "grpc_client_msg_send_handling_seconds",
      help: "Histogram of response latency (seconds) of the gRPC single message send.",
      configuration: configuration
    )
  }

  /// The series of `method`, created at 0 on the first call and returned unchanged afterwards.
  public func method(_ method: GRPCMethod) -> ClientMethodMetrics {
    self.methods.withLockedValue { methods in
      if let existing = methods[method] {
        return existing
      }
      let created = self.makeSeries(for: method)
      methods[method] = created
      return created
    }
  }

  private func makeSeries(for method: GRPCMethod) -> ClientMethodMetrics {
    let constant = self.configuration.constantLabels
    let labels = method.labels(constant: constant)
    let streaming = method.type.isStreaming
    return ClientMethodMetrics(
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
      ),
      sendSeconds: self.sendSeconds.histogram(
        in: self.registry,
        labels: labels,
        buckets: streaming ? self.configuration.clientMessageSendBuckets : nil
      ),
      receiveSeconds: self.receiveSeconds.histogram(
        in: self.registry,
        labels: labels,
        buckets: streaming ? self.configuration.clientMessageReceiveBuckets : nil
      )
    )
  }
}
