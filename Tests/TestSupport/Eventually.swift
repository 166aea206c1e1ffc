/// Polls `condition` every few milliseconds until it holds or `timeout` passes; returns whether
/// it held. For state the server updates just after a client sees the effect (metrics of a call
/// the client abandoned, a drain that has begun).
public func eventually(
  within timeout: Duration = .seconds(3),
  every interval: Duration = .milliseconds(10),
  _ condition: () throws -> Bool
) async throws -> Bool {
  let clock = ContinuousClock()
  let end = clock.now + timeout
  while clock.now < end {
    if try condition() { return true }
    try await Task.sleep(for: interval)
  }
  return try condition()
}
