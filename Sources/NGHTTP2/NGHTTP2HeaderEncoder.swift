internal import CNGHTTP2

/// Turns Swift header fields into the `nghttp2_nv` array nghttp2's submit calls take.
///
/// nghttp2 copies names and values on submit, so the bytes only have to live for the call. The
/// session keeps one encoder and reuses its two arrays, so steady-state submissions allocate
/// nothing here.
struct NGHTTP2HeaderEncoder {
  private var bytes: [UInt8] = []
  private var entries: [nghttp2_nv] = []

  /// Calls `body` with the fields as `nghttp2_nv` entries pointing into this encoder's storage.
  mutating func withNameValuePairs<Result>(
    _ fields: [NGHTTP2HeaderField],
    _ body: (UnsafePointer<nghttp2_nv>?, Int) -> Result
  ) -> Result {
    self.bytes.removeAll(keepingCapacity: true)
    self.entries.removeAll(keepingCapacity: true)
    for field in fields {
      self.bytes.append(contentsOf: field.name.utf8)
      self.bytes.append(contentsOf: field.value.utf8)
      var entry = nghttp2_nv()
      entry.namelen = field.name.utf8.count
      entry.valuelen = field.value.utf8.count
      entry.flags = UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)
      self.entries.append(entry)
    }
    // The pointers are set only now: appending may have moved the byte storage. The extra byte
    // keeps the storage non-empty, so it always has a base address.
    self.bytes.append(0)
    var entries = self.entries
    self.entries = []
    defer { self.entries = entries }
    return self.bytes.withUnsafeMutableBufferPointer { bytes in
      entries.withUnsafeMutableBufferPointer { entries in
        var cursor = bytes.baseAddress!
        for index in entries.indices {
          entries[index].name = cursor
          cursor += entries[index].namelen
          entries[index].value = cursor
          cursor += entries[index].valuelen
        }
        return body(entries.baseAddress, entries.count)
      }
    }
  }
}
