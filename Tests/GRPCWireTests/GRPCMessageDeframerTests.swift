import GRPCWire
import NIOCore
import Testing

@Suite struct GRPCMessageDeframerTests {
  /// Feeds `chunks` and collects every message, as a connection handler would.
  private func deframe(
    _ chunks: [[UInt8]],
    maxMessageSize: Int = 1 << 20,
    encoding: GRPCMessageEncoding = .identity
  ) throws -> [[UInt8]] {
    var deframer = GRPCMessageDeframer(maxMessageSize: maxMessageSize, encoding: encoding)
    var messages: [[UInt8]] = []
    for chunk in chunks {
      deframer.append(ByteBuffer(bytes: chunk))
      while let message = try deframer.next() {
        messages.append(message.bytes)
      }
    }
    try deframer.finish()
    return messages
  }

  /// Frames `payloads` with the framer under test.
  private func frame(_ payloads: [[UInt8]], encoding: GRPCMessageEncoding) throws -> [UInt8] {
    var output = ByteBuffer()
    for payload in payloads {
      try GRPCMessageFramer(encoding: encoding).append(ByteBuffer(bytes: payload), to: &output)
    }
    return output.bytes
  }

  private static let payloads: [[UInt8]] = [
    [1, 2, 3], [], Array(repeating: 0x42, count: 300), Array("hello gRPC".utf8),
  ]

  @Test(arguments: GRPCMessageEncoding.allCases)
  func roundTripsEveryMessage(encoding: GRPCMessageEncoding) throws {
    let wire = try self.frame(Self.payloads, encoding: encoding)
    #expect(try self.deframe([wire], encoding: encoding) == Self.payloads)
  }

  @Test(arguments: GRPCMessageEncoding.allCases)
  func splitsAtEveryByteBoundary(encoding: GRPCMessageEncoding) throws {
    let wire = try self.frame(Self.payloads, encoding: encoding)
    for split in 0...wire.count {
      let chunks = [Array(wire[..<split]), Array(wire[split...])]
      #expect(try self.deframe(chunks, encoding: encoding) == Self.payloads, "split at \(split)")
    }
  }

  @Test func acceptsOneByteAtATime() throws {
    let wire = try self.frame(Self.payloads, encoding: .identity)
    #expect(try self.deframe(wire.map { [$0] }) == Self.payloads)
  }

  @Test func coalescedMessagesComeOutOneByOne() throws {
    var deframer = GRPCMessageDeframer(maxMessageSize: 100)
    deframer.append(ByteBuffer(bytes: lengthPrefixed([1]) + lengthPrefixed([]) + [0, 0]))
    #expect(try deframer.next()?.bytes == [1])
    #expect(try deframer.next()?.bytes == [])
    #expect(try deframer.next() == nil)
    #expect(deframer.bufferedBytes == 2)
    deframer.append(ByteBuffer(bytes: [0, 0, 2, 5, 6] + lengthPrefixed([7])))
    #expect(try deframer.next()?.bytes == [5, 6])
    #expect(try deframer.next()?.bytes == [7])
    #expect(try deframer.next() == nil)
    try deframer.finish()
  }

  @Test func releasesTheChunkOnceEveryMessageIsOut() throws {
    var deframer = GRPCMessageDeframer(maxMessageSize: 100)
    var chunk = ByteBuffer(bytes: lengthPrefixed([1, 2]))
    deframer.append(chunk)
    var message = try deframer.next()
    #expect(message?.bytes == [1, 2])
    #expect(chunk.modifyIfUniquelyOwned { _ in true } == nil)  // The message is a slice.
    message = nil
    // The deframer keeps none of the chunk, so a receive buffer it came from can be reused.
    #expect(chunk.modifyIfUniquelyOwned { _ in true } == true)
    try deframer.finish()
  }

  @Test func uncompressedMessageIsASliceOfTheChunk() throws {
    var deframer = GRPCMessageDeframer(maxMessageSize: 100)
    let chunk = ByteBuffer(bytes: lengthPrefixed([1, 2, 3]))
    deframer.append(chunk)
    let message = try #require(try deframer.next())
    let messageAddress = message.withUnsafeReadableBytes { $0.baseAddress }
    let chunkAddress = chunk.withUnsafeReadableBytes { $0.baseAddress }
    #expect(messageAddress == chunkAddress.map { $0 + 5 })
  }

  @Test func messageExactlyAtTheLimitIsAccepted() throws {
    let payload = [UInt8](repeating: 1, count: 64)
    #expect(try self.deframe([lengthPrefixed(payload)], maxMessageSize: 64) == [payload])
  }

  @Test func messageOverTheLimitFailsFromThePrefixAlone() {
    var deframer = GRPCMessageDeframer(maxMessageSize: 64)
    // Only the prefix has arrived: the body is never buffered.
    deframer.append(ByteBuffer(bytes: [0, 0, 0, 0, 65]))
    let error = #expect(throws: GRPCWireError.self) { try deframer.next() }
    #expect(error?.code == .messageTooLarge)
    #expect(error?.statusCode == .resourceExhausted)
    #expect(error?.message.contains("65 bytes") == true)
    // Errors are sticky.
    #expect(throws: GRPCWireError.self) { try deframer.next() }
  }

  @Test func partialPrefixWaits() throws {
    var deframer = GRPCMessageDeframer(maxMessageSize: 0)
    deframer.append(ByteBuffer(bytes: [0, 0, 0, 0]))
    #expect(try deframer.next() == nil)
  }

  @Test func gzipBombIsRejectedBySize() throws {
    let bomb = try self.frame([[UInt8](repeating: 0, count: 10 << 20)], encoding: .gzip)
    // The compressed message is small enough to pass the prefix check.
    #expect(bomb.count < 64 << 10)
    let error = #expect(throws: GRPCWireError.self) {
      try self.deframe([bomb], maxMessageSize: 1 << 20, encoding: .gzip)
    }
    #expect(error?.code == .messageTooLarge)
    #expect(error?.statusCode == .resourceExhausted)
  }

  @Test(arguments: [GRPCMessageEncoding.gzip, .deflate])
  func decompressedSizeExactlyAtTheLimitIsAccepted(encoding: GRPCMessageEncoding) throws {
    // Sizes whose compressed form is under the limit, so only decompression can exceed it.
    for size in [64, 1023, 1024, 1025, 4096, 100_000] {
      let payload = [UInt8](repeating: 7, count: size)
      let wire = try self.frame([payload], encoding: encoding)
      #expect(try self.deframe([wire], maxMessageSize: size, encoding: encoding) == [payload])
      let error = #expect(throws: GRPCWireError.self) {
        try self.deframe([wire], maxMessageSize: size - 1, encoding: encoding)
      }
      #expect(error?.code == .messageTooLarge, "size \(size)")
    }
  }

  @Test func decodesGzipAndDeflateFromAnotherImplementation() throws {
    // Python's gzip.compress(b"hello gRPC", mtime=0) and zlib.compress(b"hello gRPC").
    let gzip: [UInt8] = [
      31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 203, 72, 205, 201, 201, 87, 72, 15, 10, 112, 6, 0, 237,
      145, 216, 88, 10, 0, 0, 0,
    ]
    let zlib: [UInt8] = [
      120, 156, 203, 72, 205, 201, 201, 87, 72, 15, 10, 112, 6, 0, 20, 170, 3, 129,
    ]
    let expected = [Array("hello gRPC".utf8)]
    #expect(try self.deframe([lengthPrefixed(gzip, flags: 1)], encoding: .gzip) == expected)
    #expect(try self.deframe([lengthPrefixed(zlib, flags: 1)], encoding: .deflate) == expected)
  }

  @Test func decodesACompressedEmptyMessage() throws {
    // Python's gzip.compress(b"", mtime=0): this framer never sends it, but peers may.
    let gzip: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    #expect(try self.deframe([lengthPrefixed(gzip, flags: 1)], encoding: .gzip) == [[]])
  }

  /// Ways a gzip payload can be damaged in transit or by a broken peer.
  enum Corruption: CaseIterable {
    case badMagicNumber, badChecksum, truncated, trailingGarbage, empty

    func apply(to compressed: inout [UInt8]) {
      switch self {
      case .badMagicNumber: compressed[0] = 0
      // The CRC-32 is the trailer's first four of eight bytes.
      case .badChecksum: compressed[compressed.count - 6] ^= 0xFF
      case .truncated: compressed.removeLast(4)
      case .trailingGarbage: compressed.append(0)
      case .empty: compressed.removeAll()
      }
    }
  }

  @Test(arguments: Corruption.allCases)
  func corruptedGzipFailsToDecompress(corruption: Corruption) throws {
    let wire = try self.frame([Array(repeating: 3, count: 100)], encoding: .gzip)
    var compressed = Array(wire[5...])
    corruption.apply(to: &compressed)
    let error = #expect(throws: GRPCWireError.self) {
      try self.deframe([lengthPrefixed(compressed, flags: 1)], encoding: .gzip)
    }
    #expect(error?.code == .decompressionFailed)
    #expect(error?.statusCode == .internalError)
  }

  /// A message that fails to decompress is not consumed: the next call fails the same way rather
  /// than going on to the message after it (a property FuzzGRPCDeframer checks).
  @Test func decompressionErrorsAreSticky() throws {
    var deframer = GRPCMessageDeframer(maxMessageSize: 1024, encoding: .gzip)
    let valid = try self.frame([[1, 2, 3]], encoding: .gzip)
    deframer.append(ByteBuffer(bytes: lengthPrefixed([0, 1, 2], flags: 1) + valid))
    let first = #expect(throws: GRPCWireError.self) { try deframer.next() }
    let second = #expect(throws: GRPCWireError.self) { try deframer.next() }
    #expect(first?.code == .decompressionFailed)
    #expect(second == first)
  }

  @Test func compressedFlagWithoutEncodingIsAnError() {
    let error = #expect(throws: GRPCWireError.self) {
      try self.deframe([lengthPrefixed([1], flags: 1)], encoding: .identity)
    }
    #expect(error?.code == .compressedWithoutEncoding)
    #expect(error?.statusCode == .internalError)
  }

  @Test(arguments: [UInt8(2), 3, 0x80, 0xFF])
  func unknownFlagBitsAreAnError(flags: UInt8) {
    let error = #expect(throws: GRPCWireError.self) {
      try self.deframe([lengthPrefixed([1], flags: flags)], encoding: .gzip)
    }
    #expect(error?.code == .invalidFlag)
  }

  @Test(arguments: [[UInt8]([0]), [0, 0, 0, 0, 2], [0, 0, 0, 0, 2, 1]])
  func partialMessageAtEndOfStreamIsTruncated(wire: [UInt8]) {
    let error = #expect(throws: GRPCWireError.self) { try self.deframe([wire]) }
    #expect(error?.code == .truncatedMessage)
    #expect(error?.statusCode == .internalError)
  }
}
