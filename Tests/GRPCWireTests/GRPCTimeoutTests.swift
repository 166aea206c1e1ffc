import GRPCWire
import Testing

@Suite struct GRPCTimeoutTests {
  @Test(arguments: [
    ("1S", Duration.seconds(1)),
    ("100m", .milliseconds(100)),
    ("250u", .microseconds(250)),
    ("5n", .nanoseconds(5)),
    ("2M", .seconds(120)),
    ("1H", .seconds(3600)),
    ("0n", .zero),
    ("00000001S", .seconds(1)),
    ("99999999n", .nanoseconds(99_999_999)),
    ("99999999H", .seconds(99_999_999 * 3600)),
  ])
  func parsesValidValues(value: String, duration: Duration) {
    #expect(GRPCTimeout(headerValue: value)?.duration == duration)
  }

  @Test(arguments: [
    "", "S", "1", "123456789S", "1s", "1h", "1x", "-1S", "+1S", " 1S", "1S ", "1.5S", "1SS",
    "١S",
  ])
  func rejectsInvalidValues(value: String) {
    #expect(GRPCTimeout(headerValue: value) == nil)
  }

  @Test(arguments: [
    (Duration.seconds(1), "1S"),
    (.milliseconds(100), "100m"),
    (.milliseconds(1500), "1500m"),
    (.microseconds(250), "250u"),
    (.nanoseconds(5), "5n"),
    (.seconds(120), "2M"),
    (.seconds(90), "90S"),
    (.seconds(7200), "2H"),
    (.zero, "0n"),
    (.seconds(-3), "0n"),
    // No exact eight-digit form: rounded up in the finest unit that fits.
    (.nanoseconds(1_000_000_001), "1000001u"),
    (.nanoseconds(123_456_789_123), "123457m"),
    // Sub-nanosecond remainders round up to a nanosecond.
    (.nanoseconds(1) / 2, "1n"),
    // Beyond what eight digits of hours can say: clamped.
    (.seconds(Int64(100_000_000) * 3600), "99999999H"),
  ])
  func formatsShortestValue(duration: Duration, value: String) {
    #expect(GRPCTimeout(duration).headerValue == value)
  }

  @Test(arguments: [
    Duration.milliseconds(1), .seconds(30), .microseconds(1_234_567), .seconds(86_400 * 365),
  ])
  func formattedExactValuesRoundTrip(duration: Duration) throws {
    let value = GRPCTimeout(duration).headerValue
    #expect(value.utf8.count <= 9)
    #expect(try #require(GRPCTimeout(headerValue: value)).duration == duration)
  }
}
