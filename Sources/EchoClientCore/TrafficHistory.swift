/// The last minute of `/echo` traffic second by second, for the page's chart: so a page opened
/// after a burst still shows it.
///
/// One slot per second in a ring, each with counts and a log-linear latency histogram (16 bins
/// per doubling from 16 µs, exact below that), so memory is fixed (61 slots of 400 counters,
/// about 100 KB) at any request rate, recording is a few integer operations, and a quantile is
/// the midpoint of its bin: within 3.2 % of the exact value.
public struct TrafficHistory: Sendable {
  /// One whole second of traffic.
  public struct Second: Equatable, Sendable, Encodable {
    /// How many seconds before the current one this second began: 1 is the one just completed.
    public var secondsAgo: Int
    /// Requests that ended in this second (so also its requests per second).
    public var requests: Int
    /// Failed requests among them.
    public var errors: Int
    /// Median latency in milliseconds (0 when the second had no request).
    public var p50Ms: Double
    /// 99th percentile.
    public var p99Ms: Double

    enum CodingKeys: String, CodingKey {
      case secondsAgo = "seconds_ago"
      case requests, errors
      case p50Ms = "p50_ms"
      case p99Ms = "p99_ms"
    }
  }

  /// The counts of the second a slot holds.
  private struct Slot {
    var second = Int.min
    var requests = 0
    var errors = 0
  }

  /// Bins per doubling of latency, as a power of two.
  private static let precisionBits = 4
  private static let binsPerDoubling = 1 << precisionBits
  /// Bins up to 2^28 µs (about 4.5 minutes); anything longer counts in the last one.
  static let binCount = binsPerDoubling * (28 - precisionBits + 1)

  /// How many completed seconds the history reports.
  public let length: Int
  private let origin: ContinuousClock.Instant
  private var slots: [Slot]
  /// `binCount` counters per slot, slot after slot.
  private var bins: [UInt32]

  /// Creates an empty history of `length` seconds, counted in whole seconds from `origin`.
  public init(length: Int = 60, origin: ContinuousClock.Instant = .now) {
    precondition(length > 0, "a history needs at least one second")
    self.length = length
    self.origin = origin
    // One slot more than reported: the current second fills while the last `length` stay whole.
    self.slots = Array(repeating: Slot(), count: length + 1)
    self.bins = Array(repeating: 0, count: (length + 1) * Self.binCount)
  }

  /// Records a request that ended at `time` after `latency`.
  public mutating func record(at time: ContinuousClock.Instant, latency: Duration, failed: Bool) {
    let second = self.second(of: time)
    let index = self.slotIndex(of: second)
    if self.slots[index].second != second {
      // A time older than the slot's second is one the ring has already moved past.
      guard self.slots[index].second < second else { return }
      self.slots[index] = Slot(second: second)
      let start = index * Self.binCount
      for bin in start..<start + Self.binCount { self.bins[bin] = 0 }
    }
    self.slots[index].requests += 1
    if failed { self.slots[index].errors += 1 }
    self.bins[index * Self.binCount + Self.bin(of: latency)] &+= 1
  }

  /// The `length` completed seconds before the one `now` is in, oldest first.
  public func seconds(at now: ContinuousClock.Instant) -> [Second] {
    let current = self.second(of: now)
    return (1...self.length).reversed().map { ago in
      let second = current - ago
      let index = self.slotIndex(of: second)
      let slot = self.slots[index]
      guard slot.second == second, slot.requests > 0 else {
        return Second(secondsAgo: ago, requests: 0, errors: 0, p50Ms: 0, p99Ms: 0)
      }
      let counts = self.bins[index * Self.binCount..<(index + 1) * Self.binCount]
      return Second(
        secondsAgo: ago, requests: slot.requests, errors: slot.errors,
        p50Ms: Self.quantile(0.5, of: counts, total: slot.requests),
        p99Ms: Self.quantile(0.99, of: counts, total: slot.requests))
    }
  }

  /// The whole second since `origin` that `time` falls in (negative before it).
  private func second(of time: ContinuousClock.Instant) -> Int {
    let (seconds, attoseconds) = (time - self.origin).components
    return Int(seconds) - (attoseconds < 0 ? 1 : 0)
  }

  private func slotIndex(of second: Int) -> Int {
    let count = self.slots.count
    return ((second % count) + count) % count
  }

  /// The histogram bin of a latency: whole microseconds below 16 µs, then 16 bins per doubling.
  static func bin(of latency: Duration) -> Int {
    let (seconds, attoseconds) = latency.components
    guard seconds >= 0, attoseconds >= 0 else { return 0 }
    let micros = UInt64(seconds) &* 1_000_000 &+ UInt64(attoseconds / 1_000_000_000_000)
    guard micros >= Self.binsPerDoubling else { return Int(micros) }
    let exponent = UInt64.bitWidth - 1 - micros.leadingZeroBitCount
    let shift = exponent - Self.precisionBits
    let bin = Self.binsPerDoubling * (shift + 1) + Int(micros >> shift) - Self.binsPerDoubling
    return min(bin, Self.binCount - 1)
  }

  /// The midpoint of a bin's latencies, in microseconds.
  static func midpoint(of bin: Int) -> Double {
    guard bin >= Self.binsPerDoubling else { return Double(bin) }
    let shift = bin / Self.binsPerDoubling - 1
    let low = (bin % Self.binsPerDoubling + Self.binsPerDoubling) << shift
    return Double(low) + Double((1 << shift) - 1) / 2
  }

  /// The `q` quantile (nearest rank, as ``TrafficWindow`` computes it) of `total` latencies
  /// counted in `counts`, in milliseconds rounded to the microsecond.
  private static func quantile(_ q: Double, of counts: ArraySlice<UInt32>, total: Int) -> Double {
    let rank = max(Int((q * Double(total)).rounded(.up)), 1)
    var seen = 0
    for (offset, count) in counts.enumerated() {
      seen += Int(count)
      if seen >= rank { return Self.midpoint(of: offset).rounded() / 1e3 }
    }
    return 0
  }
}
