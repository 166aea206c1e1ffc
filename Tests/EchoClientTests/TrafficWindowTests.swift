import EchoClientCore
import Testing

@Suite("Traffic window")
struct TrafficWindowTests {
  @Test("rates and quantiles over the window; totals since start")
  func summary() {
    var window = TrafficWindow(span: .seconds(10))
    let start = ContinuousClock.now
    for index in 1...100 {
      window.record(
        at: start + .milliseconds(index), latency: .milliseconds(index), failed: index % 10 == 0)
    }
    let summary = window.summary(at: start + .seconds(1))
    #expect(summary.requests == 100)
    #expect(summary.errors == 10)
    #expect(summary.requestsPerSecond == 10)
    #expect(summary.errorsPerSecond == 1)
    #expect(summary.p50Ms == 50)
    #expect(summary.p90Ms == 90)
    #expect(summary.p99Ms == 99)
  }

  @Test("samples older than the window drop out of rates, not of totals")
  func expiry() {
    var window = TrafficWindow(span: .seconds(10), capacity: 4)
    let start = ContinuousClock.now
    for index in 0..<6 {
      window.record(at: start + .milliseconds(index), latency: .milliseconds(1), failed: false)
    }
    #expect(window.summary(at: start + .seconds(1)).requestsPerSecond == 0.4)
    let later = window.summary(at: start + .seconds(20))
    #expect(later.requestsPerSecond == 0)
    #expect(later.p99Ms == 0)
    #expect(later.requests == 6)
  }
}
