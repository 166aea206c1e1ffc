import GRPCPrometheus
import GRPCWire

/// The go-grpc-prometheus client metrics (`grpc_client_*`) as the channel's interceptor: every
/// call on the channel is recorded, including calls that failed for want of a connection, and
/// binding a method creates its series at zero, so they are scraped before the first call.
extension ClientMetrics: GRPCClientInterceptor {
  /// The method's series, created now.
  public func bind(to method: GRPCMethod) -> any GRPCClientCallObserver {
    self.method(method)
  }
}

extension ClientMethodMetrics: GRPCClientCallObserver {
  /// Counts the call as handled with `code` (the wire code, spelled as Go spells it in labels).
  public func finished(_ code: GRPCStatus.Code, after elapsed: Duration) {
    self.handled(GRPCCode(rawValue: code.rawValue) ?? .unknown, after: elapsed)
  }
}
