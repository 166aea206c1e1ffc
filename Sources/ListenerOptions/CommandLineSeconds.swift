import NIOCore

/// Durations as both command lines spell them: seconds, fractions allowed.
extension TimeAmount {
  /// `seconds` seconds, to the nanosecond.
  package init(seconds: Double) {
    self = .nanoseconds(Int64(seconds * 1e9))
  }

  /// The amount in seconds.
  package var seconds: Double {
    Double(self.nanoseconds) / 1e9
  }
}

extension Duration {
  /// The duration in seconds.
  package var seconds: Double {
    Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18
  }
}
