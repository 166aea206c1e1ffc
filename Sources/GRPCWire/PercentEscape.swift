/// `%XX` escapes, as both gRPC's `grpc-message` and URL query strings write bytes.
public enum PercentEscape {
  /// The byte a `%XX` escape at `percent` (the index of the `%`) stands for; `nil` when two hex
  /// digits do not follow, in which case callers keep the `%` as it is.
  public static func byte<View: Collection<UInt8>>(in utf8: View, at percent: View.Index) -> UInt8?
  {
    let high = utf8.index(after: percent)
    guard high != utf8.endIndex, let highValue = Self.hexValue(utf8[high]) else { return nil }
    let low = utf8.index(after: high)
    guard low != utf8.endIndex, let lowValue = Self.hexValue(utf8[low]) else { return nil }
    return highValue << 4 | lowValue
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }
}
