import GRPCWire

/// Reads `application/x-www-form-urlencoded` query strings: `+` is a space, `%XX` a byte, and
/// the bytes must be UTF-8.
enum QueryString {
  /// Why a query component could not be decoded.
  enum Malformed: Error, Equatable, CustomStringConvertible {
    /// A `%` not followed by two hex digits: the component as sent.
    case escape(String)
    /// The decoded bytes are not UTF-8: the component as sent.
    case utf8(String)

    var description: String {
      switch self {
      case .escape(let component):
        "\"\(component)\" has a % that is not followed by two hex digits"
      case .utf8(let component):
        "\"\(component)\" does not decode to UTF-8"
      }
    }
  }

  /// The decoded value of the first parameter named `name` in `query` (the part after `?`),
  /// nil when absent; throws for a malformed component met on the way.
  static func value(of name: String, in query: Substring) throws(Malformed) -> String? {
    // Walked by bytes: `&` and `=` are ASCII, so no grapheme breaking is needed, and no array of
    // the pairs is made.
    let utf8 = query.utf8
    var start = utf8.startIndex
    while start != utf8.endIndex {
      let end = utf8[start...].firstIndex(of: UInt8(ascii: "&")) ?? utf8.endIndex
      let pair = utf8[start..<end]
      let equals = pair.firstIndex(of: UInt8(ascii: "="))
      if !pair.isEmpty, try Self.decode(Substring(pair[..<(equals ?? pair.endIndex)])) == name {
        guard let equals else { return "" }
        return try Self.decode(Substring(pair[pair.index(after: equals)...]))
      }
      start = end == utf8.endIndex ? end : utf8.index(after: end)
    }
    return nil
  }

  /// Decodes one component.
  static func decode(_ component: Substring) throws(Malformed) -> String {
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
      } else if byte == UInt8(ascii: "%") {
        guard let escaped = PercentEscape.byte(in: utf8, at: index) else {
          throw .escape(String(component))
        }
        bytes.append(escaped)
        index = utf8.index(index, offsetBy: 3)
        continue
      } else {
        bytes.append(byte)
      }
      index = utf8.index(after: index)
    }
    guard let decoded = String(validating: bytes, as: UTF8.self) else {
      throw .utf8(String(component))
    }
    return decoded
  }
}
