/// An RPC's deadline, for telling an expired deadline from a cancellation when all that is seen
/// is that the call ended early (a client's RST_STREAM, a cancelled task).
///
/// The peer starts its clock before this side does (before the request left it), so when the
/// peer's deadline passes, its cancellation arrives slightly before this side's own deadline.
/// A call that ends in the last tenth of its window (at least 20 ms) therefore counts as
/// `DeadlineExceeded`: counting a user who cancels that close to the deadline as a timeout is the
/// better mistake than hiding real timeouts as `Canceled`.
public struct RPCDeadline: Sendable {
  /// When the call must end, by this side's clock.
  public let instant: ContinuousClock.Instant
  private let slack: Duration

  /// A deadline `timeout` after `start` (when the request arrived or the call began).
  public init(start: ContinuousClock.Instant, timeout: Duration) {
    self.instant = start + timeout
    self.slack = max(.milliseconds(20), timeout / 10)
  }

  /// Whether a call ending at `now` ended because of this deadline.
  public func hasPassed(at now: ContinuousClock.Instant) -> Bool {
    now >= self.instant - self.slack
  }

  /// The code for a call that ended early at `now` without a status of its own.
  public func codeForEarlyEnd(at now: ContinuousClock.Instant) -> GRPCCode {
    self.hasPassed(at: now) ? .deadlineExceeded : .canceled
  }
}
