/// Reads `application/x-www-form-urlencoded` query strings: `+` is a space, `%XX` a byte.
enum QueryString {
  /// The decoded value of the first parameter named `name` in `query` (the part after `?`),
  /// nil when absent.
  static func value(of name: String, in query: Substring) -> String? {
    for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      if Self.decode(parts[0]) == name {
        return parts.count > 1 ? Self.decode(parts[1]) : ""
      }
    }
    return nil
  }

  /// Decodes one component; a `%` not followed by two hex digits stays as it is, and invalid
  /// UTF-8 is repaired with replacement characters.
  static func decode(_ component: Substring) -> String {
    let utf8 = component.utf8
    guard utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else {
      return String(component)
    }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(utf8.count)
    var index = utf8.startIndex
    while index != utf8.endIndex {
      let byte = utf8[index]
      if byte == UInt8(ascii: "+") {
        bytes.append(UInt8(ascii: " "))
      } else if byte == UInt8(ascii: "%"),
        let high = utf8.index(index, offsetBy: 1, limitedBy: utf8.endIndex),
        let low = utf8.index(index, offsetBy: 2, limitedBy: utf8.endIndex),
        low != utf8.endIndex,
        let highValue = Self.hexValue(utf8[high]), let lowValue = Self.hexValue(utf8[low])
      {
        bytes.append(highValue << 4 | lowValue)
        index = utf8.index(after: low)
        continue
      } else {
        bytes.append(byte)
      }
      index = utf8.index(after: index)
    }
    return String(decoding: bytes, as: UTF8.self)
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
