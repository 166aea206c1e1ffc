/// What the server and client metrics are called and how latencies are bucketed.
///
/// Both ``ServerMetrics`` and ``ClientMetrics`` read the same configuration, so one value can
/// describe a process that is both a gRPC server and a gRPC client.
public struct GRPCMetricsConfiguration: Sendable {
  /// Prepended to every metric name, joined with `_`, like the `namespace` of Go's
  /// `prometheus.BuildFQName`; empty adds nothing.
  public var namespace: String
  /// Placed between ``namespace`` and the metric name, like Go's `subsystem`; empty adds nothing.
  public var subsystem: String
  /// Labels added to every series, for example `["replica": "a"]`. They must not reuse the
  /// `grpc_*` label names or `le`.
  public var constantLabels: [String: String]
  /// Upper bounds, in seconds, of `grpc_{server,client}_handling_seconds`; `nil` leaves the
  /// histograms out.
  public var handlingTimeBuckets: [Double]?
  /// Upper bounds, in seconds, of `grpc_client_msg_send_handling_seconds`; `nil` leaves it out.
  public var clientMessageSendBuckets: [Double]?
  /// Upper bounds, in seconds, of `grpc_client_msg_recv_handling_seconds`; `nil` leaves it out.
  public var clientMessageReceiveBuckets: [Double]?

  /// The buckets of Go's `prometheus.DefBuckets`, which go-grpc-prometheus uses by default.
  public static let defaultBuckets: [Double] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
  ]

  /// No prefix, no constant labels, every histogram enabled with ``defaultBuckets``.
  ///
  /// Go enables the histograms only on request; they are on here because latency quantiles are
  /// what a dashboard needs first.
  public static var defaults: Self {
    Self(
      namespace: "",
      subsystem: "",
      constantLabels: [:],
      handlingTimeBuckets: Self.defaultBuckets,
      clientMessageSendBuckets: Self.defaultBuckets,
      clientMessageReceiveBuckets: Self.defaultBuckets
    )
  }

  /// Creates a configuration; see ``defaults`` for the usual starting point.
  public init(
    namespace: String,
    subsystem: String,
    constantLabels: [String: String],
    handlingTimeBuckets: [Double]?,
    clientMessageSendBuckets: [Double]?,
    clientMessageReceiveBuckets: [Double]?
  ) {
    self.namespace = namespace
    self.subsystem = subsystem
    self.constantLabels = constantLabels
    self.handlingTimeBuckets = handlingTimeBuckets
    self.clientMessageSendBuckets = clientMessageSendBuckets
    self.clientMessageReceiveBuckets = clientMessageReceiveBuckets
  }

  /// The full metric name for `name`, as Go's `BuildFQName(namespace, subsystem, name)`.
  func fullyQualifiedName(_ name: String) -> String {
    [self.namespace, self.subsystem, name].filter { !$0.isEmpty }.joined(separator: "_")
  }
}
