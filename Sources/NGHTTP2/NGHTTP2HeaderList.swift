internal import CNGHTTP2

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A header block to send, encoded once into the name/value array nghttp2's submit calls take.
///
/// A server sends the same response headers and the same OK trailers on nearly every call: it
/// builds those lists once and submits them any number of times, with no encoding work per
/// call. Other blocks are built when sent (the session's submit calls also take plain field
/// arrays); nghttp2 copies what it needs on submit, so a list only has to live for the call.
///
/// `@unchecked Sendable`: the storage is written once in `init` and only read afterwards.
public final class NGHTTP2HeaderList: @unchecked Sendable, ExpressibleByArrayLiteral {
  /// The fields, in order.
  public let fields: [NGHTTP2HeaderField]

  /// One allocation: the `nghttp2_nv` entries, then the names and values they point to.
  private let storage: UnsafeMutableRawPointer

  /// Encodes `fields` (lower-case names).
  public init(_ fields: [NGHTTP2HeaderField]) {
    self.fields = fields
    var byteCount = 0
    for field in fields { byteCount += field.name.utf8.count + field.value.utf8.count }
    let entriesSize = MemoryLayout<nghttp2_nv>.stride * fields.count
    self.storage = .allocate(
      byteCount: entriesSize + byteCount, alignment: MemoryLayout<nghttp2_nv>.alignment)
    let entries = self.storage.bindMemory(to: nghttp2_nv.self, capacity: fields.count)
    var cursor = (self.storage + entriesSize).bindMemory(to: UInt8.self, capacity: byteCount)
    for (index, field) in fields.enumerated() {
      let name = Self.copy(field.name, to: cursor)
      let value = Self.copy(field.value, to: cursor + name)
      (entries + index).initialize(
        to: nghttp2_nv(
          name: cursor, value: cursor + name, namelen: name, valuelen: value,
          flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)))
      cursor += name + value
    }
  }

  /// Encodes the fields of an array literal.
  public convenience init(arrayLiteral fields: NGHTTP2HeaderField...) {
    self.init(fields)
  }

  deinit {
    self.storage.deallocate()
  }

  /// The entries to hand to an nghttp2 submit call, valid while the list is alive.
  var entries: UnsafePointer<nghttp2_nv> {
    UnsafePointer(self.storage.assumingMemoryBound(to: nghttp2_nv.self))
  }

  /// The number of entries.
  var count: Int { self.fields.count }

  /// Copies a String's UTF-8 bytes to `destination` and returns how many there were; a native
  /// String's bytes are read in place, without a copy of the String.
  private static func copy(_ string: String, to destination: UnsafeMutablePointer<UInt8>) -> Int {
    string.utf8.withContiguousStorageIfAvailable { utf8 in
      if let source = utf8.baseAddress { memcpy(destination, source, utf8.count) }
      return utf8.count
    }
      ?? UnsafeMutableBufferPointer(start: destination, count: string.utf8.count)
      .initialize(from: string.utf8).1
  }
}
