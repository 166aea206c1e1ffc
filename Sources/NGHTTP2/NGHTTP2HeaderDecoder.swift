/// Collects the header fields nghttp2 decodes into ``NGHTTP2HeaderBlock`` values.
///
/// One block is collected at a time (HTTP/2 forbids interleaving header blocks), into storage
/// reused from block to block: steady-state decoding copies bytes and allocates nothing.
struct NGHTTP2HeaderDecoder {
  /// A field's name or value as nghttp2 hands it over.
  typealias Bytes = UnsafeBufferPointer<UInt8>

  /// The block being collected; once its HEADERS frame is complete, the block to deliver.
  private(set) var block = NGHTTP2HeaderBlock(kind: .request, fields: [])

  /// The most bytes a block may hold (RFC 9113 §6.5.2 accounting); the session's setting.
  var sizeLimit = Int.max
  private var size = 0

  /// Starts a block of `kind`.
  mutating func begin(_ kind: NGHTTP2HeaderBlock.Kind) {
    self.block.removeAll()
    self.block.kind = kind
    self.size = 0
  }

  /// Moves the finished block out, leaving an empty one, so it reaches the delegate without a
  /// copy (a copy retains its storage); ``restore(_:)`` puts it back for the next block to reuse.
  mutating func takeBlock() -> NGHTTP2HeaderBlock {
    var taken = NGHTTP2HeaderBlock(kind: self.block.kind, fields: [])
    swap(&taken, &self.block)
    return taken
  }

  /// Takes back the block ``takeBlock()`` handed out.
  mutating func restore(_ block: consuming NGHTTP2HeaderBlock) {
    self.block = block
  }

  /// Adds one field; fields past the size limit are dropped and the block flagged. Returns
  /// false once the block has grown past twice the limit: its stream is to be reset and the rest
  /// of the block skipped, because each field nghttp2 hands over costs a validation pass over its
  /// bytes, and a few bytes of HPACK can name a large field again and again (an HPACK bomb).
  /// A block only somewhat over the limit is still read to its end, so its request gets a status
  /// that says what was wrong.
  mutating func append(name: Bytes, value: Bytes) -> Bool {
    self.size += name.count + value.count + 32
    guard self.size <= self.sizeLimit else {
      self.block.exceedsSizeLimit = true
      return self.size / 2 <= self.sizeLimit
    }
    self.block.append(name: UnsafeRawBufferPointer(name), value: UnsafeRawBufferPointer(value))
    return true
  }
}
