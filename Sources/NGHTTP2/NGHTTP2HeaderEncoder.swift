internal import CNGHTTP2

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns Swift header fields into the `nghttp2_nv` array nghttp2's submit calls take.
///
/// nghttp2 copies names and values on submit, so the bytes only have to live for the call. The
/// session keeps one encoder and reuses its two buffers, so steady-state submissions allocate
/// nothing here; names and values are copied with `memcpy` from the Strings' UTF-8 storage.
struct NGHTTP2HeaderEncoder {
  private var bytes = UnsafeMutableRawBufferPointer(start: nil, count: 0)
  private var entries = UnsafeMutableBufferPointer<nghttp2_nv>(start: nil, count: 0)

  /// Frees the scratch buffers; the session calls it from its `deinit`.
  mutating func deallocate() {
    self.bytes.deallocate()
    self.entries.deallocate()
  }

  /// Calls `body` with the fields as `nghttp2_nv` entries pointing into this encoder's storage.
  mutating func withNameValuePairs<Result>(
    _ fields: [NGHTTP2HeaderField],
    _ body: (UnsafePointer<nghttp2_nv>?, Int) -> Result
  ) -> Result {
    var byteCount = 0
    for field in fields { byteCount += field.name.utf8.count + field.value.utf8.count }
    self.reserve(bytes: byteCount, entries: fields.count)
    var cursor = self.bytes.baseAddress!
    for (index, field) in fields.enumerated() {
      let name = Self.copy(field.name, to: cursor)
      let value = Self.copy(field.value, to: cursor + name)
      self.entries[index] = nghttp2_nv(
        name: cursor.assumingMemoryBound(to: UInt8.self),
        value: (cursor + name).assumingMemoryBound(to: UInt8.self),
        namelen: name, valuelen: value, flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
      cursor += name + value
    }
    return body(UnsafePointer(self.entries.baseAddress), fields.count)
  }

  /// Copies a String's UTF-8 bytes to `destination` and returns how many there were.
  private static func copy(_ string: String, to destination: UnsafeMutableRawPointer) -> Int {
    var string = string
    return string.withUTF8 { utf8 in
      if let source = utf8.baseAddress { memcpy(destination, source, utf8.count) }
      return utf8.count
    }
  }

  /// Grows the scratch buffers (to the next power of two) when a block needs more room.
  private mutating func reserve(bytes byteCount: Int, entries entryCount: Int) {
    if self.bytes.count < max(byteCount, 1) {
      self.bytes.deallocate()
      self.bytes = .allocate(
        byteCount: max(256, byteCount.nextPowerOfTwo), alignment: MemoryLayout<UInt8>.alignment)
    }
    if self.entries.count < max(entryCount, 1) {
      self.entries.deallocate()
      self.entries = .allocate(capacity: max(16, entryCount.nextPowerOfTwo))
    }
  }
}

extension Int {
  fileprivate var nextPowerOfTwo: Int {
    self <= 1 ? 1 : 1 << (Int.bitWidth - (self - 1).leadingZeroBitCount)
  }
}
