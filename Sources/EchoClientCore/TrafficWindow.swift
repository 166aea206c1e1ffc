/// The last few seconds of `/echo` traffic, for the page's live view: request and error rates
/// and latency quantiles over a sliding window, plus totals since start and the last minute
/// second by second (``TrafficHistory``).
///
/// A fixed-size ring of samples, so memory stays bounded at any request rate (at very high rates
/// the window holds the most recent `capacity` requests, which still gives good quantiles).
public struct TrafficWindow: Sendable {
  /// One request.
  struct Sample {
    var time: ContinuousClock.Instant
    var latency: Duration
    var failed: Bool
  }

  /// The window's numbers at one instant.
  public struct Summary: Equatable, Sendable, Encodable {
    /// Requests per second over the window.
    public var requestsPerSecond: Double
    /// Failed requests per second over the window.
    public var errorsPerSecond: Double
    /// Requests since start.
    public var requests: Int
    /// Failed requests since start.
    public var errors: Int
    /// Latency quantiles over the window, in milliseconds (0 when the window is empty).
    public var p50Ms: Double
    /// 90th percentile.
    public var p90Ms: Double
    /// 99th percentile.
    public var p99Ms: Double
    /// The window's length in seconds.
    public var windowSeconds: Double
    /// The completed seconds of the last minute, oldest first.
    public var history: [TrafficHistory.Second]

    enum CodingKeys: String, CodingKey {
      case requestsPerSecond = "requests_per_second"
      case errorsPerSecond = "errors_per_second"
      case requests, errors
      case p50Ms = "p50_ms"
      case p90Ms = "p90_ms"
      case p99Ms = "p99_ms"
      case windowSeconds = "window_seconds"
      case history
    }
  }

  /// How far back the rates and quantiles look.
  public let span: Duration
  private let capacity: Int
  private var samples: [Sample] = []
  private var next = 0
  private var requests = 0
  private var errors = 0
  private var history: TrafficHistory

  /// Creates an empty window of `span`, holding at most `capacity` samples, with a history of
  /// `historySeconds` whole seconds counted from `origin`.
  public init(
    span: Duration = .seconds(10), capacity: Int = 50_000, historySeconds: Int = 60,
    origin: ContinuousClock.Instant = .now
  ) {
    precondition(capacity > 0 && span > .zero, "a window needs room and length")
    self.span = span
    self.capacity = capacity
    self.history = TrafficHistory(length: historySeconds, origin: origin)
  }

  /// Records a request that ended at `time` after `latency`.
  public mutating func record(at time: ContinuousClock.Instant, latency: Duration, failed: Bool) {
    let sample = Sample(time: time, latency: latency, failed: failed)
    if self.samples.count < self.capacity {
      self.samples.append(sample)
    } else {
      self.samples[self.next] = sample
      self.next = (self.next + 1) % self.capacity
    }
    self.requests += 1
    if failed { self.errors += 1 }
    self.history.record(at: time, latency: latency, failed: failed)
  }

  /// The numbers of the window ending at `now`.
  public func summary(at now: ContinuousClock.Instant) -> Summary {
    let start = now - self.span
    let recent = self.samples.filter { $0.time > start && $0.time <= now }
    let latencies = recent.map(\.latency).sorted()
    let seconds = self.span / .seconds(1)
    func quantile(_ q: Double) -> Double {
      guard !latencies.isEmpty else { return 0 }
      let rank = Int((q * Double(latencies.count)).rounded(.up)) - 1
      let value = latencies[min(max(rank, 0), latencies.count - 1)]
      return (value / .microseconds(1)).rounded() / 1e3
    }
    return Summary(
      requestsPerSecond: Double(recent.count) / seconds,
      errorsPerSecond: Double(recent.count { $0.failed }) / seconds,
      requests: self.requests,
      errors: self.errors,
      p50Ms: quantile(0.5),
      p90Ms: quantile(0.9),
      p99Ms: quantile(0.99),
      windowSeconds: seconds,
      history: self.history.seconds(at: now))
  }
}
