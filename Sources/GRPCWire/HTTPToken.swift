#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Byte-level helpers for header values: they work on UTF-8 views so parsing a header
// allocates no String.

extension BidirectionalCollection<UInt8> {
  /// The bytes without leading and trailing spaces and horizontal tabs (HTTP's OWS).
  func trimmingHTTPWhitespace() -> SubSequence {
    let isWhitespace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
    let start = self.firstIndex { !isWhitespace($0) } ?? self.endIndex
    let end = self[start...].lastIndex { !isWhitespace($0) }.map { self.index(after: $0) }
    return self[start..<(end ?? start)]
  }

  /// Whether the bytes spell `lowercase` ignoring ASCII letter case.
  /// `lowercase` must be lower-case ASCII.
  func equalsASCIICaseInsensitive(_ lowercase: String) -> Bool {
    self.elementsEqual(lowercase.utf8) { byte, expected in
      let folded = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
      return folded == expected
    }
  }
}

extension UnsafeRawBufferPointer {
  /// Whether the bytes are exactly `literal`'s UTF-8: one `memcmp`, for matching header names
  /// as nghttp2 delivers them without making Strings.
  @inlinable
  public func equals(_ literal: StaticString) -> Bool {
    self.count == literal.utf8CodeUnitCount
      && (self.isEmpty || memcmp(self.baseAddress!, literal.utf8Start, self.count) == 0)
  }
}
