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
/// The fields are kept as the bytes nghttp2 decoded, back to back in one array, so receiving a
/// block makes no String at all: readers on the hot path look at the bytes
/// (``forEachRawField(_:)``, ``firstIndex(ofName:)``, ``valueEquals(at:_:)``) and make Strings
/// only of the values they keep. As a collection it yields `(name, value)` Strings, made on
/// access. A value type over arrays the session reuses from block to block, so keeping a block
/// beyond the delegate call is safe, and not keeping it costs no allocation.
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

  /// Where one field's name and value are in ``bytes``: the name starts at `start`, the value
  /// right after it.
  @usableFromInline
  struct FieldSpan: Sendable {
    @usableFromInline var start: Int
    @usableFromInline var nameCount: Int
    @usableFromInline var valueCount: Int

    @usableFromInline var valueStart: Int { self.start + self.nameCount }
  }

  /// What this block is.
  public var kind: Kind

  /// True when the block was larger than the session's `maxHeaderListSize` (counted as RFC 9113
  /// §6.5.2 does: name and value lengths plus 32 per field); the fields past the limit are
  /// dropped, so the receiver must refuse the request rather than act on part of it.
  public var exceedsSizeLimit = false

  /// Every name and value, back to back, in arrival order.
  @usableFromInline var bytes: [UInt8] = []
  /// One entry per field.
  @usableFromInline var spans: [FieldSpan] = []

  /// Creates a block, for tests and for code that builds blocks by hand.
  public init(kind: Kind, fields: [NGHTTP2HeaderField]) {
    self.kind = kind
    for field in fields {
      self.append(name: Array(field.name.utf8), value: Array(field.value.utf8))
    }
  }

  /// Adds a field at the end.
  mutating func append(name: some Collection<UInt8>, value: some Collection<UInt8>) {
    self.spans.append(
      FieldSpan(start: self.bytes.count, nameCount: name.count, valueCount: value.count))
    self.bytes.append(contentsOf: name)
    self.bytes.append(contentsOf: value)
  }

  /// Empties the block, keeping its storage for the next one.
  mutating func removeAll() {
    self.bytes.removeAll(keepingCapacity: true)
    self.spans.removeAll(keepingCapacity: true)
    self.exceedsSizeLimit = false
  }

  /// Calls `body` with the bytes of each field's name and value, in order. The pointers are
  /// valid only during the call.
  @inlinable
  public func forEachRawField(
    _ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void
  ) rethrows {
    try self.bytes.withUnsafeBytes { bytes in
      for span in self.spans {
        try body(
          UnsafeRawBufferPointer(rebasing: bytes[span.start..<span.valueStart]),
          UnsafeRawBufferPointer(
            rebasing: bytes[span.valueStart..<span.valueStart + span.valueCount]))
      }
    }
  }

  /// The position of the first field named `name` (lower case), if any.
  public func firstIndex(ofName name: String) -> Int? {
    var name = name
    return name.withUTF8 { name in
      self.bytes.withUnsafeBytes { bytes in
        self.spans.firstIndex { span in
          span.nameCount == name.count
            && Self.equal(bytes, from: span.start, name)
        }
      }
    }
  }

  /// The name of the field at `position`.
  public func name(at position: Int) -> String {
    let span = self.spans[position]
    return String(decoding: self.bytes[span.start..<span.valueStart], as: UTF8.self)
  }

  /// The value of the field at `position`.
  public func value(at position: Int) -> String {
    let span = self.spans[position]
    return String(
      decoding: self.bytes[span.valueStart..<span.valueStart + span.valueCount], as: UTF8.self)
  }

  /// Whether the value of the field at `position` is exactly `value`, compared as bytes.
  public func valueEquals(at position: Int, _ value: String) -> Bool {
    let span = self.spans[position]
    var value = value
    return value.withUTF8 { value in
      value.count == span.valueCount
        && self.bytes.withUnsafeBytes { Self.equal($0, from: span.valueStart, value) }
    }
  }

  /// The value of the first field named `name` (lower case), if any.
  public subscript(name: String) -> String? {
    self.firstIndex(ofName: name).map { self.value(at: $0) }
  }

  private static func equal(
    _ bytes: UnsafeRawBufferPointer, from start: Int, _ other: UnsafeBufferPointer<UInt8>
  ) -> Bool {
    other.isEmpty || memcmp(bytes.baseAddress! + start, other.baseAddress!, other.count) == 0
  }
}

extension NGHTTP2HeaderBlock: RandomAccessCollection {
  /// The position of the first field.
  public var startIndex: Int { self.spans.startIndex }

  /// The position past the last field.
  public var endIndex: Int { self.spans.endIndex }

  /// The field at `position`, as Strings.
  public subscript(position: Int) -> NGHTTP2HeaderField {
    (self.name(at: position), self.value(at: position))
  }
}
