import NIOCore

/// Writes gRPC length-prefixed messages: a flag byte (1 when compressed), a 4-byte big-endian
/// length, then the payload, all into the caller's buffer so that a response's messages and
/// prefixes go out in one write.
public struct GRPCMessageFramer: Hashable, Sendable {
  /// The encoding negotiated for messages this side sends.
  public let encoding: GRPCMessageEncoding

  /// Creates a framer that compresses with `encoding` (identity: never compresses).
  public init(encoding: GRPCMessageEncoding = .identity) {
    self.encoding = encoding
  }

  /// Appends `message` as one length-prefixed message after `output`'s writer index.
  ///
  /// The message is compressed when the encoding is not identity and `compress` is true; the
  /// specification lets a sender leave any message uncompressed, so `compress: false` suits
  /// payloads that would not shrink. Empty messages are never compressed: a compressed empty
  /// message is about 20 bytes of headers around nothing.
  ///
  /// On error `output` is left as it was.
  public func append(
    _ message: ByteBuffer,
    to output: inout ByteBuffer,
    compress: Bool = true
  ) throws(GRPCWireError) {
    guard compress, self.encoding != .identity, message.readableBytes > 0 else {
      output.reserveCapacity(
        minimumWritableBytes: GRPCMessageDeframer.prefixLength + message.readableBytes
      )
      Self.appendMessage(to: &output) { output in output.writeImmutableBuffer(message) }
      return
    }
    let prefixIndex = output.writerIndex
    output.writeInteger(UInt8(1))
    output.writeInteger(UInt32(0))
    var payload = message
    do {
      try self.encoding.compress(&payload, into: &output)
    } catch {
      output.moveWriterIndex(to: prefixIndex)
      throw error
    }
    Self.setLength(in: &output, prefixIndex: prefixIndex)
  }

  /// Appends an uncompressed length-prefixed message whose payload `writePayload` writes
  /// straight into `output` after the prefix, so a serializer that can write into a
  /// `ByteBuffer` needs no intermediate buffer. The prefix's length is filled in afterwards.
  public static func appendMessage<Failure: Error>(
    to output: inout ByteBuffer,
    writingPayload writePayload: (inout ByteBuffer) throws(Failure) -> Void
  ) throws(Failure) {
    let prefixIndex = output.writerIndex
    output.writeInteger(UInt8(0))
    output.writeInteger(UInt32(0))
    do {
      try writePayload(&output)
    } catch {
      output.moveWriterIndex(to: prefixIndex)
      throw error
    }
    Self.setLength(in: &output, prefixIndex: prefixIndex)
  }

  /// Fills in the length of the message whose prefix starts at `prefixIndex` and whose payload
  /// runs to the writer index. A `ByteBuffer` cannot exceed `UInt32.max` bytes, so it fits.
  private static func setLength(in output: inout ByteBuffer, prefixIndex: Int) {
    let length = output.writerIndex - prefixIndex - GRPCMessageDeframer.prefixLength
    output.setInteger(UInt32(length), at: prefixIndex + 1)
  }
}
