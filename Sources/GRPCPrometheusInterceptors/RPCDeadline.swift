import GRPCCore
import GRPCPrometheus
import GRPCWire

extension RPCDeadline {
  /// The deadline from the `grpc-timeout` header GRPCCore puts in the request metadata;
  /// interceptors see neither the call options nor GRPCCore's own deadline timer, so the header
  /// is measured from `start`, a moment after GRPCCore began counting.
  init?(metadata: Metadata, start: ContinuousClock.Instant) {
    guard let header = metadata[stringValues: "grpc-timeout"].first(where: { _ in true }),
      let timeout = GRPCTimeout(headerValue: header)
    else { return nil }
    self.init(start: start, timeout: timeout.duration)
  }
}
