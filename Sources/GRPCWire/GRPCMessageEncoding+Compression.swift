import CompressNIO
import NIOCore

// A zlib stream is created per message: compressed messages are the exception on this
// server's hot path, and a per-stream compressor would make the framer and deframer
// non-Sendable reference holders.
extension GRPCMessageEncoding {
  /// The zlib container for this encoding; nil for identity.
  private var zlibAlgorithm: ZlibAlgorithm? {
    switch self {
    case .identity: nil
    case .gzip: .gzip
    // HTTP's and gRPC's "deflate" is the zlib format (RFC 1950), not raw deflate.
    case .deflate: .zlib
    }
  }

  /// Compresses the readable bytes of `message` and writes them after `output`'s writer index.
  func compress(_ message: inout ByteBuffer, into output: inout ByteBuffer) throws(GRPCWireError) {
    guard let algorithm = self.zlibAlgorithm else {
      output.writeBuffer(&message)
      return
    }
    do {
      let compressor = try ZlibCompressor(algorithm: algorithm)
      // deflateBound: with this much room one `.finish` call always completes.
      output.reserveCapacity(minimumWritableBytes: compressor.maxSize(from: message))
      try compressor.deflate(from: &message, to: &output, flush: .finish)
    } catch {
      throw GRPCWireError(
        code: .compressionFailed,
        message: "Failed to compress a message with \(self.rawValue): \(error)"
      )
    }
  }

  /// Decompresses one whole message, refusing to produce more than `maxSize` bytes so that a
  /// small payload cannot expand without bound (a "zip bomb").
  func decompress(
    _ compressed: inout ByteBuffer,
    maxSize: Int,
    allocator: ByteBufferAllocator
  ) throws(GRPCWireError) -> ByteBuffer {
    guard let algorithm = self.zlibAlgorithm else { return compressed }
    // An empty payload cannot be a gzip or zlib stream, and zlib wants a non-empty input.
    guard compressed.readableBytes > 0 else {
      throw self.decompressionFailed("the compressed message is empty")
    }
    // One byte past the limit is enough to know the message is too large.
    let capacityLimit = maxSize < Int(UInt32.max) ? maxSize + 1 : Int(UInt32.max)
    var output = allocator.buffer(
      capacity: min(capacityLimit, max(1024, compressed.readableBytes * 4))
    )
    do {
      let decompressor = try ZlibDecompressor(algorithm: algorithm)
      while true {
        do {
          try decompressor.inflate(from: &compressed, to: &output)
        } catch let error as CompressNIOError where error == .bufferOverflow {
          guard output.readableBytes <= maxSize else { break }
          let grown = min(capacityLimit, output.capacity * 2)
          output.reserveCapacity(minimumWritableBytes: grown - output.writerIndex)
          continue
        }
        guard compressed.readableBytes == 0 else {
          throw self.decompressionFailed("unexpected bytes after the end of the compressed data")
        }
        // All input is consumed but zlib returns the same way whether or not the stream ended;
        // another call with no input tells them apart: it throws if the data was truncated.
        try decompressor.inflate(from: &compressed, to: &output)
        break
      }
    } catch let error as GRPCWireError {
      throw error
    } catch let error as CompressNIOError where error == .inputBufferOverflow {
      throw self.decompressionFailed("the compressed data is truncated")
    } catch {
      throw self.decompressionFailed("\(error)")
    }
    guard output.readableBytes <= maxSize else {
      throw GRPCWireError(
        code: .messageTooLarge,
        message: "Decompressed message exceeds the maximum message size of \(maxSize) bytes;"
          + " send smaller messages or raise the receiver's limit"
      )
    }
    return output
  }

  private func decompressionFailed(_ reason: String) -> GRPCWireError {
    GRPCWireError(
      code: .decompressionFailed,
      message: "Failed to decompress a message with \(self.rawValue): \(reason)"
    )
  }
}
