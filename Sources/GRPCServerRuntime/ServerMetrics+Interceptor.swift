import GRPCPrometheus
import GRPCWire

/// The go-grpc-prometheus server metrics as the server's interceptor: binding a method
/// registers its series (at zero), and its calls are counted there.
extension ServerMetrics: GRPCServerInterceptor {
  /// The method's series, created now.
  public func bind(to method: GRPCMethod) -> any GRPCServerCallObserver {
    self.method(method)
  }
}

extension ServerMethodMetrics: GRPCServerCallObserver {
  /// Counts the call as started.
  public func started(_ call: ServerCall) {
    self.started()
  }

  /// Counts a request message.
  public func receivedMessage(on call: ServerCall) {
    self.receivedMessage()
  }

  /// Counts a response message.
  public func sentMessage(on call: ServerCall) {
    self.sentMessage()
  }

  /// Counts the call as handled with the status's code (spelled as Go spells it in labels).
  public func finished(_ call: ServerCall, with status: GRPCStatus, after elapsed: Duration) {
    self.handled(GRPCCode(status.code), after: elapsed)
  }
}
