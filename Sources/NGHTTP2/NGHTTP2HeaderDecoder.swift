#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Collects the header fields nghttp2 decodes into ``NGHTTP2HeaderBlock`` values, reusing the
/// Strings of the previous block of the same kind where the bytes repeat.
///
/// The requests on one gRPC connection carry the same headers in the same order (method,
/// path, content type, user agent...), and most of those strings are too long for Swift's
/// inline small-string form, so decoding each afresh costs a malloc per field. Comparing
/// against the field at the same position of the last block is a short byte compare instead.
struct NGHTTP2HeaderDecoder {
  /// The block being collected; after `finish()`, the block to deliver.
  private(set) var block = NGHTTP2HeaderBlock(kind: .request, fields: [])

  /// The next position to fill in `block.fields`; entries from there on are the previous
  /// block's, kept as candidates for reuse.
  private var count = 0

  /// The most bytes a block may hold (RFC 9113 §6.5.2 accounting); the session's setting.
  var sizeLimit = Int.max
  private var size = 0

  /// The last complete block of each kind not currently in `block`.
  private var recent:
    (
      request: [NGHTTP2HeaderField], response: [NGHTTP2HeaderField],
      trailers: [NGHTTP2HeaderField]
    ) = ([], [], [])

  /// Starts a block of `kind`, with the previous block of that kind as reuse candidates.
  mutating func begin(_ kind: NGHTTP2HeaderBlock.Kind) {
    self.swapRecent(self.block.kind)
    self.block.kind = kind
    self.swapRecent(kind)
    self.count = 0
    self.size = 0
    self.block.exceedsSizeLimit = false
  }

  /// Adds one field, reusing the candidate Strings at this position when the bytes match.
  mutating func append(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
    self.size += name.count + value.count + 32
    guard self.size <= self.sizeLimit else {
      self.block.exceedsSizeLimit = true
      return
    }
    guard self.count < self.block.fields.count else {
      self.block.fields.append((Self.string(name, reusing: nil), Self.string(value, reusing: nil)))
      self.count += 1
      return
    }
    let candidate = self.block.fields[self.count]
    self.block.fields[self.count] = (
      Self.string(name, reusing: candidate.name), Self.string(value, reusing: candidate.value)
    )
    self.count += 1
  }

  /// Ends the block: drops the candidates past its last field, leaving `block` to deliver.
  mutating func finish() {
    self.block.fields.removeSubrange(self.count...)
  }

  private mutating func swapRecent(_ kind: NGHTTP2HeaderBlock.Kind) {
    switch kind {
    case .request: swap(&self.block.fields, &self.recent.request)
    case .response: swap(&self.block.fields, &self.recent.response)
    case .trailers: swap(&self.block.fields, &self.recent.trailers)
    }
  }

  private static func string(
    _ bytes: UnsafeBufferPointer<UInt8>, reusing candidate: String?
  )
    -> String
  {
    if let candidate, candidate.utf8.count == bytes.count,
      candidate.utf8.withContiguousStorageIfAvailable({ stored in
        bytes.isEmpty || memcmp(stored.baseAddress!, bytes.baseAddress!, bytes.count) == 0
      }) == true
    {
      return candidate
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
