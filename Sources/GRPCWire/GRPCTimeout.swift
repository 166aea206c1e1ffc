/// The `grpc-timeout` header: a relative deadline of at most eight decimal digits and a unit.
public struct GRPCTimeout: Hashable, Sendable, CustomStringConvertible {
  /// How long the call may take; never negative.
  public let duration: Duration

  /// The largest value the header can carry in any unit.
  private static let maxValue: Int64 = 99_999_999

  /// The header units, largest first, with their length in nanoseconds.
  private static let units: [(symbol: UInt8, nanoseconds: Int64)] = [
    (UInt8(ascii: "H"), 3_600_000_000_000),
    (UInt8(ascii: "M"), 60_000_000_000),
    (UInt8(ascii: "S"), 1_000_000_000),
    (UInt8(ascii: "m"), 1_000_000),
    (UInt8(ascii: "u"), 1_000),
    (UInt8(ascii: "n"), 1),
  ]

  /// Wraps a duration to send; a negative one is sent as zero (the call is already late).
  public init(_ duration: Duration) {
    self.duration = max(duration, .zero)
  }

  /// Parses a header value such as `1S`, `100m`, `250u`, `5n`, `2M` or `1H`: one to eight
  /// ASCII digits and one unit. Anything else (spaces, signs, nine digits, no unit, an unknown
  /// unit) is invalid and yields nil.
  public init?(headerValue: some StringProtocol) {
    let utf8 = Substring(headerValue).utf8
    guard let unit = utf8.last, (2...9).contains(utf8.count),
      let unitNanoseconds = Self.units.first(where: { $0.symbol == unit })?.nanoseconds
    else { return nil }
    var value: Int64 = 0
    for byte in utf8.dropLast() {
      guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
      value = value * 10 + Int64(byte - UInt8(ascii: "0"))
    }
    // Split into seconds and nanoseconds: 99,999,999 hours in nanoseconds overflows Int64.
    let perSecond: Int64 = 1_000_000_000
    if unitNanoseconds >= perSecond {
      self.duration = .seconds(value * (unitNanoseconds / perSecond))
    } else {
      self.duration = .nanoseconds(value * unitNanoseconds)
    }
  }

  /// The shortest header value for ``duration`` that fits in eight digits.
  ///
  /// An exact representation in the largest possible unit wins (`1S`, not `1000m`). A duration
  /// with no exact eight-digit form is rounded up in the finest unit that fits, so the server's
  /// deadline is never earlier than the client's. Durations past 99,999,999 hours are clamped.
  public var headerValue: String {
    let (seconds, attoseconds) = self.duration.components
    // Sub-nanosecond remainders round up to a whole nanosecond, for the same reason.
    let nanoseconds =
      Int128(seconds) * 1_000_000_000 + (Int128(attoseconds) + 999_999_999) / 1_000_000_000
    guard nanoseconds > 0 else { return "0n" }
    let exact = Self.units.first { unit in
      nanoseconds % Int128(unit.nanoseconds) == 0
        && nanoseconds / Int128(unit.nanoseconds) <= Int128(Self.maxValue)
    }
    if let exact {
      return Self.format(Int64(nanoseconds / Int128(exact.nanoseconds)), exact.symbol)
    }
    for unit in Self.units.reversed() {
      let value = (nanoseconds + Int128(unit.nanoseconds) - 1) / Int128(unit.nanoseconds)
      if value <= Int128(Self.maxValue) {
        return Self.format(Int64(value), unit.symbol)
      }
    }
    return Self.format(Self.maxValue, UInt8(ascii: "H"))
  }

  /// The header value, for logs.
  public var description: String {
    self.headerValue
  }

  private static func format(_ value: Int64, _ unit: UInt8) -> String {
    // A Character, not `String(decoding:)` of one byte, which takes a dynamic cast per call.
    var text = String(value)
    text.append(Character(Unicode.Scalar(unit)))
    return text
  }
}
