#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One header field: a lower-case name and its value.
public typealias NGHTTP2HeaderField = (name: String, value: String)

/// One complete header block received on a stream: request headers, response headers or
/// trailers, in the order they arrived.
///
/// The fields are kept as the bytes nghttp2 decoded, back to back in one buffer, so receiving a
/// block makes no String at all: readers on the hot path look at the bytes
/// (``forEachRawField(_:)``, ``firstIndex(ofName:)``, ``valueEquals(at:_:)``) and make Strings
/// only of the values they keep. As a collection it yields `(name, value)` Strings, made on
/// access. A value type over copy-on-write storage the session reuses from block to block, so
/// keeping a block beyond the delegate call is safe, and not keeping it costs no allocation.
public struct NGHTTP2HeaderBlock: Sendable {
  /// What a header block is, from nghttp2's header category.
  public enum Kind: Hashable, Sendable {
    /// The headers that open a request (received by a server).
    case request
    /// The first headers of a response (received by a client).
    case response
    /// Any later header block on a stream: trailers (gRPC carries its status in them).
    case trailers
  }

  /// Where one field's name and value are in the storage's bytes: the name starts at `start`,
  /// the value right after it.
  @usableFromInline
  struct FieldSpan: Sendable {
    @usableFromInline var start: Int
    @usableFromInline var nameCount: Int
    @usableFromInline var valueCount: Int

    @usableFromInline var valueStart: Int { self.start + self.nameCount }
  }

  /// Every name and value back to back, and where each field is: two growable buffers, appended
  /// to with a `memcpy` each (Array appends cost several times as much, eight fields a request).
  /// Copy-on-write keeps blocks values: storage is only changed while one block holds it.
  ///
  /// `@unchecked Sendable`: a storage shared by several blocks is never written again.
  @usableFromInline
  final class Storage: @unchecked Sendable {
    @usableFromInline private(set) var bytes: UnsafeMutableRawPointer
    @usableFromInline private(set) var spans: UnsafeMutablePointer<FieldSpan>
    @usableFromInline private(set) var spanCount = 0
    private var byteCount = 0
    private var byteCapacity: Int
    private var spanCapacity: Int

    /// Shared by empty blocks (a block handed out and not yet given back leaves one behind), so
    /// making one allocates nothing.
    static let empty = Storage(byteCapacity: 0, spanCapacity: 0)

    init(byteCapacity: Int = 1024, spanCapacity: Int = 16) {
      self.byteCapacity = byteCapacity
      self.spanCapacity = spanCapacity
      self.bytes = .allocate(byteCount: Swift.max(byteCapacity, 1), alignment: 1)
      self.spans = .allocate(capacity: Swift.max(spanCapacity, 1))
    }

    deinit {
      self.bytes.deallocate()
      self.spans.deallocate()
    }

    /// A storage with the same fields, for a block about to change one that others hold.
    func copy() -> Storage {
      let copy = Storage(
        byteCapacity: Swift.max(self.byteCapacity, 1024),
        spanCapacity: Swift.max(self.spanCapacity, 16))
      copy.bytes.copyMemory(from: self.bytes, byteCount: self.byteCount)
      copy.spans.update(from: self.spans, count: self.spanCount)
      copy.byteCount = self.byteCount
      copy.spanCount = self.spanCount
      return copy
    }

    func append(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
      let needed = self.byteCount + name.count + value.count
      if needed > self.byteCapacity { self.growBytes(to: needed) }
      if self.spanCount == self.spanCapacity { self.growSpans() }
      if let base = name.baseAddress {
        (self.bytes + self.byteCount).copyMemory(from: base, byteCount: name.count)
      }
      if let base = value.baseAddress {
        (self.bytes + self.byteCount + name.count).copyMemory(from: base, byteCount: value.count)
      }
      (self.spans + self.spanCount).initialize(
        to: FieldSpan(start: self.byteCount, nameCount: name.count, valueCount: value.count))
      self.byteCount = needed
      self.spanCount += 1
    }

    func removeAll() {
      self.byteCount = 0
      self.spanCount = 0
    }

    private func growBytes(to needed: Int) {
      let capacity = Swift.max(needed, self.byteCapacity * 2)
      let bytes = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 1)
      bytes.copyMemory(from: self.bytes, byteCount: self.byteCount)
      self.bytes.deallocate()
      self.bytes = bytes
      self.byteCapacity = capacity
    }

    private func growSpans() {
      let capacity = Swift.max(16, self.spanCapacity * 2)
      let spans = UnsafeMutablePointer<FieldSpan>.allocate(capacity: capacity)
      spans.moveInitialize(from: self.spans, count: self.spanCount)
      self.spans.deallocate()
      self.spans = spans
      self.spanCapacity = capacity
    }
  }

  /// What this block is.
  public var kind: Kind

  /// True when the block was larger than the session's `maxHeaderListSize` (counted as RFC 9113
  /// §6.5.2 does: name and value lengths plus 32 per field); the fields past the limit are
  /// dropped, so the receiver must refuse the request rather than act on part of it.
  public var exceedsSizeLimit = false

  @usableFromInline var storage: Storage

  /// Creates a block, for tests and for code that builds blocks by hand.
  public init(kind: Kind, fields: [NGHTTP2HeaderField]) {
    self.kind = kind
    self.storage = fields.isEmpty ? .empty : Storage()
    for field in fields {
      Array(field.name.utf8).withUnsafeBytes { name in
        Array(field.value.utf8).withUnsafeBytes { value in
          self.storage.append(name: name, value: value)
        }
      }
    }
  }

  /// Adds a field at the end.
  mutating func append(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
    self.makeStorageUnique()
    self.storage.append(name: name, value: value)
  }

  /// Empties the block, keeping its storage for the next one when no other block shares it.
  mutating func removeAll() {
    if isKnownUniquelyReferenced(&self.storage) && self.storage !== Storage.empty {
      self.storage.removeAll()
    } else {
      self.storage = Storage()
    }
    self.exceedsSizeLimit = false
  }

  private mutating func makeStorageUnique() {
    if !isKnownUniquelyReferenced(&self.storage) || self.storage === Storage.empty {
      self.storage = self.storage.copy()
    }
  }

  /// Calls `body` with the bytes of each field's name and value, in order. The pointers are
  /// valid only during the call.
  @inlinable
  public func forEachRawField(
    _ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void
  ) rethrows {
    let storage = self.storage
    for index in 0..<storage.spanCount {
      let span = storage.spans[index]
      try body(
        UnsafeRawBufferPointer(start: storage.bytes + span.start, count: span.nameCount),
        UnsafeRawBufferPointer(start: storage.bytes + span.valueStart, count: span.valueCount))
    }
    withExtendedLifetime(storage) {}
  }

  /// The position of the first field named `name` (lower case), if any.
  public func firstIndex(ofName name: String) -> Int? {
    (0..<self.storage.spanCount).first { Self.bytes(self.nameBytes(at: $0), equal: name) }
  }

  /// The name of the field at `position`.
  public func name(at position: Int) -> String {
    String(decoding: self.nameBytes(at: position), as: UTF8.self)
  }

  /// The value of the field at `position`.
  public func value(at position: Int) -> String {
    String(decoding: self.valueBytes(at: position), as: UTF8.self)
  }

  /// Whether the value of the field at `position` is exactly `value`, compared as bytes.
  public func valueEquals(at position: Int, _ value: String) -> Bool {
    Self.bytes(self.valueBytes(at: position), equal: value)
  }

  /// Whether `stored` (a field's name or value) holds exactly the UTF-8 of `string`. A native
  /// String is contiguous UTF-8, compared in place without a copy of the String.
  @inlinable
  public static func bytes(_ stored: UnsafeRawBufferPointer, equal string: String) -> Bool {
    string.utf8.withContiguousStorageIfAvailable { utf8 in
      utf8.count == stored.count
        && (utf8.isEmpty || memcmp(stored.baseAddress!, utf8.baseAddress!, utf8.count) == 0)
    } ?? stored.elementsEqual(string.utf8)
  }

  /// The value of the first field named `name` (lower case), if any.
  public subscript(name: String) -> String? {
    self.firstIndex(ofName: name).map { self.value(at: $0) }
  }

  /// The bytes of a field's name; valid while the block is alive and unchanged.
  private func nameBytes(at position: Int) -> UnsafeRawBufferPointer {
    precondition(position >= 0 && position < self.storage.spanCount, "field index out of range")
    let span = self.storage.spans[position]
    return UnsafeRawBufferPointer(start: self.storage.bytes + span.start, count: span.nameCount)
  }

  /// The bytes of a field's value; valid while the block is alive and unchanged.
  private func valueBytes(at position: Int) -> UnsafeRawBufferPointer {
    precondition(position >= 0 && position < self.storage.spanCount, "field index out of range")
    let span = self.storage.spans[position]
    return UnsafeRawBufferPointer(
      start: self.storage.bytes + span.valueStart, count: span.valueCount)
  }
}

extension NGHTTP2HeaderBlock: RandomAccessCollection {
  /// The position of the first field.
  public var startIndex: Int { 0 }

  /// The position past the last field.
  public var endIndex: Int { self.storage.spanCount }

  /// The field at `position`, as Strings.
  public subscript(position: Int) -> NGHTTP2HeaderField {
    (self.name(at: position), self.value(at: position))
  }
}
