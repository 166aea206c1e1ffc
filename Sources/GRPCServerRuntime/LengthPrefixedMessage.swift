import GRPCWire
import NIOCore
import SwiftProtobuf

/// A serialized protobuf message with its 5-byte gRPC length prefix in front, in the one buffer
/// that is sent: swift-protobuf serializes straight into it (through
/// `SwiftProtobufContiguousBytes`), so a reply costs one allocation and no copy before nghttp2
/// takes it.
struct LengthPrefixedMessage: SwiftProtobufContiguousBytes {
  /// The prefix (uncompressed flag and payload length) followed by the payload.
  private(set) var framed: ByteBuffer

  /// The payload alone, for a framer that compresses it.
  var payload: ByteBuffer {
    self.framed.getSlice(
      at: self.framed.readerIndex + GRPCMessageDeframer.prefixLength, length: self.count)!
  }

  init(repeating byte: UInt8, count: Int) {
    self.framed = Self.prefixed(count: count)
    self.framed.writeRepeatingByte(byte, count: count)
  }

  init<S: Sequence>(_ sequence: S) where S.Element == UInt8 {
    let bytes = Array(sequence)
    self.framed = Self.prefixed(count: bytes.count)
    self.framed.writeBytes(bytes)
  }

  var count: Int {
    self.framed.readableBytes - GRPCMessageDeframer.prefixLength
  }

  func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try self.framed.withUnsafeReadableBytes { bytes in
      try body(UnsafeRawBufferPointer(rebasing: bytes[GRPCMessageDeframer.prefixLength...]))
    }
  }

  mutating func withUnsafeMutableBytes<R>(
    _ body: (UnsafeMutableRawBufferPointer) throws -> R
  ) rethrows -> R {
    try self.framed.withUnsafeMutableReadableBytes { bytes in
      try body(UnsafeMutableRawBufferPointer(rebasing: bytes[GRPCMessageDeframer.prefixLength...]))
    }
  }

  /// A buffer holding just the prefix of an uncompressed message of `count` bytes, with room for
  /// them.
  private static func prefixed(count: Int) -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: GRPCMessageDeframer.prefixLength + count)
    buffer.writeInteger(UInt8(0))
    buffer.writeInteger(UInt32(truncatingIfNeeded: count))
    return buffer
  }
}
