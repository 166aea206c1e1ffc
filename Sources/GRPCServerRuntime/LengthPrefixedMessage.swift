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
    self.framed = ByteBuffer(repeating: byte, count: GRPCMessageDeframer.prefixLength + count)
    Self.setPrefix(of: &self.framed, count: count)
  }

  init<S: Sequence>(_ sequence: S) where S.Element == UInt8 {
    let bytes = Array(sequence)
    self.init(repeating: 0, count: bytes.count)
    self.framed.setBytes(bytes, at: self.framed.readerIndex + GRPCMessageDeframer.prefixLength)
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

  /// Writes the prefix of an uncompressed message of `count` bytes at the start of `buffer`.
  private static func setPrefix(of buffer: inout ByteBuffer, count: Int) {
    buffer.setInteger(UInt8(0), at: buffer.readerIndex)
    buffer.setInteger(UInt32(truncatingIfNeeded: count), at: buffer.readerIndex + 1)
  }
}
