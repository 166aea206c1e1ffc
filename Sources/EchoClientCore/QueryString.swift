import GRPCWire

/// Reads `application/x-www-form-urlencoded` query strings: `+` is a space, `%XX` a byte.
enum QueryString {
  /// The decoded value of the first parameter named `name` in `query` (the part after `?`),
  /// nil when absent.
  static func value(of name: String, in query: Substring) -> String? {
    // Split by bytes: `&` and `=` are ASCII, so no grapheme breaking is needed.
    for pair in query.utf8.split(separator: UInt8(ascii: "&")) {
      let equals = pair.firstIndex(of: UInt8(ascii: "="))
      if Self.decode(Substring(pair[..<(equals ?? pair.endIndex)])) == name {
        return equals.map { Self.decode(Substring(pair[pair.index(after: $0)...])) } ?? ""
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
      } else if byte == UInt8(ascii: "%"), let escaped = PercentEscape.byte(in: utf8, at: index) {
        bytes.append(escaped)
        index = utf8.index(index, offsetBy: 3)
        continue
      } else {
        bytes.append(byte)
      }
      index = utf8.index(after: index)
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
