/// An RPC's deadline, for telling an expired deadline from a cancellation when all that is seen
/// is that the call ended early (a client's RST_STREAM, a cancelled task).
///
/// The peer starts its clock before this side does (before the request left it), so when the
/// peer's deadline passes, its cancellation arrives slightly before this side's own deadline.
/// A call that ends in the last tenth of its window (at least 20 ms) therefore counts as
/// `DeadlineExceeded`: counting a user who cancels that close to the deadline as a timeout is the
/// better mistake than hiding real timeouts as `Canceled`.
public struct RPCDeadline: Sendable {
  /// When the call started, by this side's clock.
  public let start: ContinuousClock.Instant
  /// How long the call may take.
  public let timeout: Duration

  /// A deadline `timeout` after `start` (when the request arrived or the call began).
  public init(start: ContinuousClock.Instant, timeout: Duration) {
    self.start = start
    self.timeout = timeout
  }

  /// When the call must end, by this side's clock.
  public var instant: ContinuousClock.Instant { self.start + self.timeout }

  /// Whether a call ending at `now` ended because of this deadline.
  public func hasPassed(at now: ContinuousClock.Instant) -> Bool {
    self.codeForEarlyEnd(at: now) == .deadlineExceeded
  }

  /// The code for a call that ended early at `now` without a status of its own.
  public func codeForEarlyEnd(at now: ContinuousClock.Instant) -> GRPCCode {
    Self.codeForEarlyEnd(after: now - self.start, timeout: self.timeout)
  }

  /// The rule itself, for a caller that keeps time its own way: a call with `timeout` that ended
  /// early `elapsed` after it started ended because of its deadline when that was in the last
  /// tenth of the window (at least 20 ms).
  public static func codeForEarlyEnd(after elapsed: Duration, timeout: Duration) -> GRPCCode {
    let slack = max(.milliseconds(20), timeout / 10)
    return elapsed >= timeout - slack ? .deadlineExceeded : .canceled
  }
}
