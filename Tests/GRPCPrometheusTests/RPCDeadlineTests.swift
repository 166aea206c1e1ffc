import GRPCPrometheus
import Testing

@Suite struct RPCDeadlineTests {
  let start = ContinuousClock.now

  @Test func earlyEndWellBeforeTheDeadlineIsACancellation() {
    let deadline = RPCDeadline(start: self.start, timeout: .seconds(1))
    #expect(deadline.codeForEarlyEnd(at: self.start + .milliseconds(500)) == .canceled)
    #expect(deadline.codeForEarlyEnd(at: self.start + .milliseconds(899)) == .canceled)
  }

  @Test func earlyEndInTheLastTenthIsTheDeadline() {
    let deadline = RPCDeadline(start: self.start, timeout: .seconds(1))
    #expect(deadline.codeForEarlyEnd(at: self.start + .milliseconds(901)) == .deadlineExceeded)
    #expect(deadline.codeForEarlyEnd(at: self.start + .seconds(2)) == .deadlineExceeded)
  }

  @Test func shortTimeoutsGetAtLeastTwentyMilliseconds() {
    let deadline = RPCDeadline(start: self.start, timeout: .milliseconds(100))
    #expect(deadline.codeForEarlyEnd(at: self.start + .milliseconds(79)) == .canceled)
    #expect(deadline.codeForEarlyEnd(at: self.start + .milliseconds(81)) == .deadlineExceeded)
  }

  @Test func theRuleOnElapsedTimeAgreesWithTheClockForm() {
    #expect(
      RPCDeadline.codeForEarlyEnd(after: .milliseconds(899), timeout: .seconds(1)) == .canceled)
    #expect(
      RPCDeadline.codeForEarlyEnd(after: .milliseconds(901), timeout: .seconds(1))
        == .deadlineExceeded)
    #expect(
      RPCDeadline.codeForEarlyEnd(after: .milliseconds(81), timeout: .milliseconds(100))
        == .deadlineExceeded)
    let deadline = RPCDeadline(start: self.start, timeout: .seconds(1))
    #expect(deadline.instant == self.start + .seconds(1))
    #expect(deadline.hasPassed(at: self.start + .milliseconds(950)))
  }
}
