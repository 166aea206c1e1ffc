import NIOCore

/// Reads gRPC length-prefixed messages out of a stream's DATA, however the bytes are split:
/// a message across many chunks, many messages in one chunk, or both.
///
/// Feed chunks with `append` and pop messages with ``next()`` until it returns nil; at end of
/// stream call ``finish()``. Uncompressed messages are slices of the buffered bytes, not copies,
/// and a chunk holding whole messages is not copied either.
/// Errors are sticky: once ``next()`` throws, it throws the same error on every call, and the
/// stream should be failed with ``GRPCWireError/statusCode``.
public struct GRPCMessageDeframer: Sendable {
  /// The size of the flag byte plus the 4-byte length that precede every message.
  public static let prefixLength = 5

  /// The largest message accepted, in bytes, checked both against the length prefix (before the
  /// body is buffered) and after decompression.
  public let maxMessageSize: Int
  /// The encoding negotiated for messages this side receives (`grpc-encoding` of the peer);
  /// with identity, a message flagged as compressed is an error.
  public let encoding: GRPCMessageEncoding

  private var buffer: ByteBuffer
  private let allocator: ByteBufferAllocator

  /// Creates a deframer for one stream.
  public init(
    maxMessageSize: Int,
    encoding: GRPCMessageEncoding = .identity,
    allocator: ByteBufferAllocator = ByteBufferAllocator()
  ) {
    precondition(maxMessageSize >= 0, "maxMessageSize must not be negative")
    self.maxMessageSize = maxMessageSize
    self.encoding = encoding
    self.allocator = allocator
    self.buffer = allocator.buffer(capacity: 0)
  }

  /// The number of bytes received but not yet returned as messages.
  public var bufferedBytes: Int {
    self.buffer.readableBytes
  }

  /// Buffers a chunk of the stream's DATA. When nothing is pending the chunk itself becomes the
  /// buffer, so a chunk holding whole messages is never copied.
  public mutating func append(_ chunk: ByteBuffer) {
    if self.buffer.readableBytes == 0 {
      self.buffer = chunk
    } else {
      self.compactBeforeWrite()
      self.buffer.writeImmutableBuffer(chunk)
    }
  }

  /// Returns the next complete message, or nil until more bytes arrive.
  ///
  /// Throws as soon as the 5-byte prefix is buffered if it announces a message over
  /// ``maxMessageSize``, has unknown flag bits, or is flagged compressed without an encoding,
  /// so an oversized body is never buffered.
  public mutating func next() throws(GRPCWireError) -> ByteBuffer? {
    let start = self.buffer.readerIndex
    guard self.buffer.readableBytes >= Self.prefixLength,
      let flags = self.buffer.getInteger(at: start, as: UInt8.self),
      let length = self.buffer.getInteger(at: start + 1, as: UInt32.self)
    else { return nil }
    let isCompressed = try self.validate(flags: flags, length: Int(length))
    guard var message = self.buffer.getSlice(at: start + Self.prefixLength, length: Int(length))
    else { return nil }
    if isCompressed {
      // Before the message is consumed, so that a failure repeats on the next call like the
      // prefix checks' do.
      message = try self.encoding.decompress(
        &message, maxSize: self.maxMessageSize, allocator: self.allocator)
    }
    self.buffer.moveReaderIndex(forwardBy: Self.prefixLength + Int(length))
    if self.buffer.readableBytes == 0 {
      // Let go of the chunk (often a slice of the connection's receive buffer, which the
      // channel can then reuse); the message slice keeps what it needs.
      self.buffer = ByteBuffer()
    }
    return message
  }

  /// Checks, at end of stream, that no partial message is left over.
  public func finish() throws(GRPCWireError) {
    guard self.buffer.readableBytes == 0 else {
      throw GRPCWireError(
        code: .truncatedMessage,
        message: "The stream ended in the middle of a message"
          + " (\(self.buffer.readableBytes) bytes of an incomplete length-prefixed message)"
      )
    }
  }

  /// Validates a message prefix and returns whether the message is compressed.
  private func validate(flags: UInt8, length: Int) throws(GRPCWireError) -> Bool {
    guard flags & ~1 == 0 else {
      throw GRPCWireError(
        code: .invalidFlag,
        message: "Invalid message flags 0x\(String(flags, radix: 16)): only the compressed flag"
          + " (0x1) is defined"
      )
    }
    let isCompressed = flags == 1
    guard !isCompressed || self.encoding != .identity else {
      throw GRPCWireError(
        code: .compressedWithoutEncoding,
        message: "A message is flagged as compressed but the stream has no message encoding"
          + " (grpc-encoding absent or identity); send grpc-encoding with the algorithm used,"
          + " or do not compress"
      )
    }
    guard length <= self.maxMessageSize else {
      throw GRPCWireError(
        code: .messageTooLarge,
        message: "Message of \(length) bytes exceeds the maximum message size of"
          + " \(self.maxMessageSize) bytes; send smaller messages or raise the receiver's limit"
      )
    }
    return isCompressed
  }

  /// Drops consumed bytes before the buffer grows, so that a long stream does not keep every
  /// message it ever received. Each pending byte is moved at most once per message popped.
  private mutating func compactBeforeWrite() {
    if self.buffer.readerIndex > 0 {
      self.buffer.discardReadBytes()
    }
  }
}
