import NIOConcurrencyHelpers

/// The ``TrafficWindow`` shared by every event loop of the gateway.
public final class TrafficStats: Sendable {
  private let window: NIOLockedValueBox<TrafficWindow>

  /// Creates empty statistics over `span`.
  public init(span: Duration = .seconds(10)) {
    self.window = NIOLockedValueBox(TrafficWindow(span: span))
  }

  /// Records one `/echo` request.
  public func record(latency: Duration, failed: Bool) {
    let now = ContinuousClock.now
    self.window.withLockedValue { $0.record(at: now, latency: latency, failed: failed) }
  }

  /// The current numbers.
  public func summary() -> TrafficWindow.Summary {
    let now = ContinuousClock.now
    return self.window.withLockedValue { $0.summary(at: now) }
  }
}
