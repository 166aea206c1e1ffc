import NIOCore
import Testing

@testable import EchoClientCore

@Suite("Traffic history")
struct TrafficHistoryTests {
  @Test("each completed second of the last minute, oldest first, with counts and quantiles")
  func seconds() {
    let start = ContinuousClock.now
    var history = TrafficHistory(length: 60, origin: start)
    for index in 1...100 {
      history.record(
        at: start + .milliseconds(5 * index), latency: .milliseconds(index),
        failed: index % 10 == 0)
    }
    for _ in 0..<3 {
      history.record(at: start + .milliseconds(2_100), latency: .microseconds(5), failed: false)
    }
    // Second 3 is in progress: not reported yet.
    history.record(at: start + .milliseconds(3_200), latency: .milliseconds(1), failed: false)

    let seconds = history.seconds(at: start + .milliseconds(3_500))
    #expect(seconds.count == 60)
    #expect(seconds.map(\.secondsAgo) == Array((1...60).reversed()))
    #expect(seconds.dropLast(3).allSatisfy { $0.requests == 0 && $0.p99Ms == 0 })
    // Quantiles are bin midpoints: 50 ms reads 50.176 and 99 ms 100.352 (within 3.2 %).
    #expect(
      seconds[57]
        == TrafficHistory.Second(
          secondsAgo: 3, requests: 100, errors: 10, p50Ms: 50.176, p99Ms: 100.352))
    #expect(
      seconds[58]
        == TrafficHistory.Second(secondsAgo: 2, requests: 0, errors: 0, p50Ms: 0, p99Ms: 0))
    // Below 16 µs the bins are exact.
    #expect(
      seconds[59]
        == TrafficHistory.Second(secondsAgo: 1, requests: 3, errors: 0, p50Ms: 0.005, p99Ms: 0.005))
  }

  @Test("a second leaves after a minute; its slot is reused and late records are dropped")
  func expiry() {
    let start = ContinuousClock.now
    var history = TrafficHistory(length: 60, origin: start)
    history.record(at: start + .milliseconds(500), latency: .microseconds(3), failed: true)
    #expect(history.seconds(at: start + .milliseconds(60_500)).first?.requests == 1)
    #expect(history.seconds(at: start + .milliseconds(61_500)).allSatisfy { $0.requests == 0 })
    // Second 61 takes the slot second 0 had; a record for second 0 arriving after it is too old.
    history.record(at: start + .milliseconds(61_100), latency: .microseconds(7), failed: false)
    history.record(at: start + .milliseconds(600), latency: .microseconds(3), failed: true)
    let seconds = history.seconds(at: start + .milliseconds(62_000))
    #expect(seconds.map(\.requests).reduce(0, +) == 1)
    #expect(
      seconds.last
        == TrafficHistory.Second(secondsAgo: 1, requests: 1, errors: 0, p50Ms: 0.007, p99Ms: 0.007))
  }

  @Test("latency bins: exact below 16 µs, then 16 per doubling, the last one open-ended")
  func bins() {
    #expect(TrafficHistory.bin(of: .zero) == 0)
    #expect(TrafficHistory.bin(of: .microseconds(15)) == 15)
    #expect(TrafficHistory.bin(of: .microseconds(16)) == 16)
    #expect(TrafficHistory.bin(of: .microseconds(33)) == 32)
    #expect(TrafficHistory.midpoint(of: 32) == 32.5)
    #expect(TrafficHistory.bin(of: .seconds(3_600)) == TrafficHistory.binCount - 1)
    for micros in [17, 100, 999, 12_345, 1_000_000, 4_999_999] {
      let midpoint = TrafficHistory.midpoint(of: TrafficHistory.bin(of: .microseconds(micros)))
      #expect(abs(midpoint - Double(micros)) / Double(micros) < 0.032)
    }
  }

  @Test("/stats JSON: the window's fields unchanged, plus `history`")
  func json() {
    let start = ContinuousClock.now
    var window = TrafficWindow(span: .seconds(10), origin: start)
    window.record(at: start + .milliseconds(500), latency: .microseconds(8), failed: true)
    let response = EchoResponse.json(.ok, window.summary(at: start + .milliseconds(1_500)))
    let quiet = (2...60).reversed().map {
      #"{"errors":0,"p50_ms":0,"p99_ms":0,"requests":0,"seconds_ago":\#($0)}"#
    }
    let last = #"{"errors":1,"p50_ms":0.008,"p99_ms":0.008,"requests":1,"seconds_ago":1}"#
    #expect(
      String(buffer: response.body)
        == #"{"errors":1,"errors_per_second":0.1,"history":["#
        + (quiet + [last]).joined(separator: ",")
        + #"],"p50_ms":0.008,"p90_ms":0.008,"p99_ms":0.008,"requests":1,"#
        + #""requests_per_second":0.1,"window_seconds":10}"#)
  }
}
