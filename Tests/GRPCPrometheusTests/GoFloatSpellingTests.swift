import Testing

@testable import GRPCPrometheus

@Suite struct GoFloatSpellingTests {
  /// Inputs as swift-prometheus writes them (`Double.description`, `Duration` buckets) and the
  /// outputs of Go's `strconv.FormatFloat(f, 'g', -1, 64)`.
  @Test(arguments: [
    ("1.0", "1"), ("10.0", "10"), ("2.5", "2.5"), ("0.005", "0.005"), ("0.25", "0.25"),
    ("5.0", "5"), ("0.0", "0"), ("100000.0", "100000"), ("1000000.0", "1e+06"),
    ("1234567.0", "1.234567e+06"), ("1e-05", "1e-05"), ("0.0001", "0.0001"),
    ("1.5e-07", "1.5e-07"), ("1e+16", "1e+16"), ("-2.0", "-2"), ("-0.5", "-0.5"),
    ("0.1", "0.1"), ("60.0", "60"), ("120.0", "120"),
    ("1.8446744073709552e+19", "1.8446744073709552e+19"),
    ("007.50", "7.5"), ("1e100", "1e+100"),
  ])
  func textSpelling(input: String, go: String) {
    #expect(GoFloatSpelling.respell(Array(input.utf8), openMetrics: false) == Array(go.utf8))
  }

  /// Go's OpenMetrics writer appends ".0" to numbers with neither "." nor "e".
  @Test(arguments: [
    ("1.0", "1.0"), ("10.0", "10.0"), ("2.5", "2.5"), ("0.0", "0.0"), ("1000000.0", "1e+06"),
    ("0.005", "0.005"),
  ])
  func openMetricsSpelling(input: String, go: String) {
    #expect(GoFloatSpelling.respell(Array(input.utf8), openMetrics: true) == Array(go.utf8))
  }

  @Test(arguments: ["+Inf", "-Inf", "NaN", "", "1.2.3", "abc", "1e", "e5", "1x"])
  func nonNumbersAreLeftAlone(input: String) {
    #expect(GoFloatSpelling.respell(Array(input.utf8), openMetrics: false) == nil)
  }
}
