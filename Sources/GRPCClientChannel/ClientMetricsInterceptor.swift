import GRPCPrometheus
import GRPCWire

/// Records the go-grpc-prometheus client metrics (`grpc_client_*`) of every call on the channel,
/// including calls that failed for want of a connection. Binding a method creates its series at
/// zero, so they are scraped before the first call.
public struct ClientMetricsInterceptor: GRPCClientInterceptor {
  private let metrics: ClientMetrics

  /// Records into `metrics`.
  public init(metrics: ClientMetrics) {
    self.metrics = metrics
  }

  /// The method's pre-resolved series.
  public func bind(to method: GRPCMethod) -> any GRPCClientCallObserver {
    self.metrics.method(method)
  }
}
