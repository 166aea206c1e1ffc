import GRPCClientChannel
import Testing

@Suite("Reconnect backoff")
struct ReconnectBackoffTests {
  let backoff = ReconnectBackoff.defaults

  @Test("grows by the multiplier from the initial delay")
  func grows() {
    #expect(self.backoff.delay(attempt: 0, random: 0.5) == .milliseconds(100))
    #expect(self.backoff.delay(attempt: 1, random: 0.5) == .milliseconds(160))
    #expect(self.backoff.delay(attempt: 2, random: 0.5) == .milliseconds(256))
  }

  @Test("never exceeds 1 s, jitter included, however many attempts failed")
  func capped() {
    for attempt in [5, 6, 10, 100, Int.max] {
      #expect(self.backoff.delay(attempt: attempt, random: 1) <= .seconds(1))
      #expect(self.backoff.delay(attempt: attempt, random: 0) == .milliseconds(800))
    }
  }

  @Test("jitter spreads ±20 % around the delay")
  func jitter() {
    #expect(self.backoff.delay(attempt: 0, random: 0) == .milliseconds(80))
    #expect(self.backoff.delay(attempt: 0, random: 1) == .milliseconds(120))
  }
}
