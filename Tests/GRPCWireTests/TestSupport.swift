import NIOCore

extension ByteBuffer {
  /// A buffer holding `bytes`.
  init(bytes: [UInt8]) {
    self.init()
    self.writeBytes(bytes)
  }

  /// The readable bytes as an array, for comparisons.
  var bytes: [UInt8] {
    self.getBytes(at: self.readerIndex, length: self.readableBytes) ?? []
  }
}

/// A length-prefixed message built by hand, independent of the framer under test.
func lengthPrefixed(_ payload: [UInt8], flags: UInt8 = 0) -> [UInt8] {
  let length = UInt32(payload.count)
  let lengthBytes = (0..<4).map { UInt8(truncatingIfNeeded: length >> (24 - 8 * $0)) }
  return [flags] + lengthBytes + payload
}
