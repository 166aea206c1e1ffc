/// How long a connection waits before each reconnect attempt: exponential growth from
/// ``initial`` by ``multiplier``, capped at ``maximum``, spread by ``jitter`` so that many clients
/// do not reconnect in step (gRPC's connection-backoff algorithm; the original caps it at 1 s).
public struct ReconnectBackoff: Hashable, Sendable {
  /// The delay before the first reconnect attempt.
  public var initial: Duration
  /// The factor between consecutive delays.
  public var multiplier: Double
  /// The longest delay, jitter included.
  public var maximum: Duration
  /// The relative spread of each delay: 0.2 means ±20 %.
  public var jitter: Double

  /// Creates a schedule.
  public init(initial: Duration, multiplier: Double, maximum: Duration, jitter: Double) {
    precondition(initial > .zero && multiplier >= 1 && maximum >= initial, "invalid backoff")
    precondition((0...1).contains(jitter), "jitter must be between 0 and 1")
    self.initial = initial
    self.multiplier = multiplier
    self.maximum = maximum
    self.jitter = jitter
  }

  /// 100 ms, growing by 1.6, capped at 1 s, ±20 %: a restarted server is found within a second.
  public static var defaults: ReconnectBackoff {
    ReconnectBackoff(
      initial: .milliseconds(100), multiplier: 1.6, maximum: .seconds(1), jitter: 0.2)
  }

  /// The delay before attempt `attempt` (0 for the first reconnect). `random` is a value in
  /// 0...1 that picks the point within the jitter band (0.5 is the unjittered delay), so the
  /// schedule itself stays a pure function.
  public func delay(attempt: Int, random: Double) -> Duration {
    let maximum = self.maximum / .seconds(1)
    var capped = self.initial / .seconds(1)
    var grown = 0
    while grown < attempt && capped < maximum {
      capped = min(capped * self.multiplier, maximum)
      grown += 1
    }
    let spread = capped * (1 + self.jitter * (2 * min(max(random, 0), 1) - 1))
    return .nanoseconds(Int64(min(spread, maximum) * 1e9))
  }
}
