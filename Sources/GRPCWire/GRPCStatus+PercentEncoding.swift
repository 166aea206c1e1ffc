extension GRPCStatus {
  /// Encodes a status message for the `grpc-message` trailer: every UTF-8 byte outside
  /// 0x20...0x7E, and '%' itself, becomes `%XX`.
  ///
  /// Returns the message unchanged (no allocation) when nothing needs escaping, the common case.
  public static func percentEncode(_ message: String) -> String {
    guard message.utf8.contains(where: Self.needsEscaping) else { return message }
    var encoded: [UInt8] = []
    encoded.reserveCapacity(message.utf8.count * 3)
    for byte in message.utf8 {
      if Self.needsEscaping(byte) {
        encoded.append(UInt8(ascii: "%"))
        encoded.append(Self.hexDigit(byte >> 4))
        encoded.append(Self.hexDigit(byte & 0x0F))
      } else {
        encoded.append(byte)
      }
    }
    return String(decoding: encoded, as: UTF8.self)
  }

  /// Decodes a `grpc-message` value.
  ///
  /// Decoding is lenient, as the specification requires that a bad message never fails the
  /// call: a '%' not followed by two hex digits stays as is, and if the decoded bytes are not
  /// valid UTF-8 the raw value is returned rather than a mangled one.
  public static func percentDecode(_ value: some StringProtocol) -> String {
    guard value.utf8.contains(UInt8(ascii: "%")) else { return String(value) }
    var decoded: [UInt8] = []
    decoded.reserveCapacity(value.utf8.count)
    let utf8 = value.utf8
    var index = utf8.startIndex
    while index != utf8.endIndex {
      let byte = utf8[index]
      if byte == UInt8(ascii: "%"), let escaped = PercentEscape.byte(in: utf8, at: index) {
        decoded.append(escaped)
        index = utf8.index(index, offsetBy: 3)
      } else {
        decoded.append(byte)
        index = utf8.index(after: index)
      }
    }
    return String(validating: decoded, as: UTF8.self) ?? String(value)
  }

  private static func needsEscaping(_ byte: UInt8) -> Bool {
    byte < 0x20 || byte > 0x7E || byte == UInt8(ascii: "%")
  }

  private static func hexDigit(_ nibble: UInt8) -> UInt8 {
    nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
  }
}
