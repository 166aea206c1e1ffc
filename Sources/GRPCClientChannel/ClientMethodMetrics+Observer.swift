import GRPCPrometheus
import GRPCWire

extension ClientMethodMetrics: GRPCClientCallObserver {
  /// Counts the call as handled with `code` (the wire code, spelled as Go spells it in labels).
  public func finished(_ code: GRPCStatus.Code, after elapsed: Duration) {
    self.handled(GRPCCode(rawValue: code.rawValue) ?? .unknown, after: elapsed)
  }
}
