/// Collects the header fields nghttp2 decodes into ``NGHTTP2HeaderBlock`` values.
///
/// One block is collected at a time (HTTP/2 forbids interleaving header blocks), into storage
/// reused from block to block: steady-state decoding copies bytes and allocates nothing.
struct NGHTTP2HeaderDecoder {
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

  /// Adds one field; fields past the size limit are dropped and the block flagged.
  mutating func append(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
    self.size += name.count + value.count + 32
    guard self.size <= self.sizeLimit else {
      self.block.exceedsSizeLimit = true
      return
    }
    self.block.append(name: UnsafeRawBufferPointer(name), value: UnsafeRawBufferPointer(value))
  }
}
