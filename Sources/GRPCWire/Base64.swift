/// Standard base64 (RFC 4648 section 4), as `-bin` metadata uses it. Written here because
/// Foundation's decoder rejects the unpadded form gRPC peers send.
enum Base64 {
  private static let alphabet = Array(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8
  )

  /// The value of each alphabet byte, 0xFF for bytes outside the alphabet.
  private static let values: [UInt8] = {
    var values = [UInt8](repeating: 0xFF, count: 256)
    for (value, byte) in Self.alphabet.enumerated() {
      values[Int(byte)] = UInt8(value)
    }
    return values
  }()

  /// Decodes padded or unpadded base64; nil for any byte outside the alphabet, misplaced
  /// padding, or a length no encoder produces.
  static func decode(_ text: some StringProtocol) -> [UInt8]? {
    var utf8 = Substring(text).utf8[...]
    if utf8.count % 4 == 0 {
      // Up to two '=' may pad the last group; strip them and decode as unpadded.
      for _ in 0..<2 where utf8.last == UInt8(ascii: "=") {
        utf8 = utf8.dropLast()
      }
    }
    guard utf8.count % 4 != 1 else { return nil }
    var decoded: [UInt8] = []
    decoded.reserveCapacity(utf8.count * 3 / 4)
    var group: UInt32 = 0
    var characters = 0
    for byte in utf8 {
      let value = Self.values[Int(byte)]
      guard value != 0xFF else { return nil }
      group = group << 6 | UInt32(value)
      characters += 1
      if characters == 4 {
        decoded.append(UInt8(truncatingIfNeeded: group >> 16))
        decoded.append(UInt8(truncatingIfNeeded: group >> 8))
        decoded.append(UInt8(truncatingIfNeeded: group))
        group = 0
        characters = 0
      }
    }
    switch characters {
    case 2:
      decoded.append(UInt8(truncatingIfNeeded: group >> 4))
    case 3:
      decoded.append(UInt8(truncatingIfNeeded: group >> 10))
      decoded.append(UInt8(truncatingIfNeeded: group >> 2))
    default:
      break
    }
    return decoded
  }
}
