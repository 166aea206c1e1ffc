/// Spreads calls over connections: the next ready one after the last pick, so N replicas behind
/// one name each get 1/N of the calls. When none is ready, a connecting one is chosen (the call
/// waits for it); when none is even connecting, there is nothing to pick and the call fails fast
/// with `UNAVAILABLE`, as gRPC does with `waitForReady` off.
public struct RoundRobinPicker: Hashable, Sendable {
  /// Where a candidate connection stands.
  public enum Connectivity: UInt8, Hashable, Sendable {
    /// Opening its TCP connection; calls given to it wait.
    case connecting = 0
    /// Connected: calls start at once.
    case ready = 1
    /// Waiting to reconnect, or shut down: no calls.
    case unavailable = 2
  }

  private var next = 0

  /// Creates a picker that starts with the first candidate, or with candidate `start` (modulo
  /// the count at each pick), so that one-off picks over the same candidates spread.
  public init(startingAt start: Int = 0) {
    self.next = max(start, 0)
  }

  /// The index of the candidate the next call goes to, or nil when none can take it.
  public mutating func pick(count: Int, connectivity: (Int) -> Connectivity) -> Int? {
    guard count > 0 else { return nil }
    var firstConnecting: Int?
    for offset in 0..<count {
      let index = (self.next + offset) % count
      switch connectivity(index) {
      case .ready:
        self.next = (index + 1) % count
        return index
      case .connecting:
        if firstConnecting == nil { firstConnecting = index }
      case .unavailable:
        continue
      }
    }
    return firstConnecting
  }
}
