extension Duration {
  /// The duration in seconds, the unit of every Prometheus latency histogram; computed from the
  /// components so recording allocates nothing.
  var seconds: Double {
    let (seconds, attoseconds) = self.components
    return Double(seconds) + Double(attoseconds) * 1e-18
  }
}
