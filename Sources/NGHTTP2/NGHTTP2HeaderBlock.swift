/// One header field: a lower-case name and its value.
public typealias NGHTTP2HeaderField = (name: String, value: String)

/// One complete header block received on a stream: request headers, response headers or
/// trailers, in the order they arrived.
///
/// A value type over an array the session reuses from block to block (and whose Strings it
/// reuses where the next block repeats them), so keeping a block beyond the delegate call is
/// safe, and not keeping it costs no allocation.
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

  /// What this block is.
  public var kind: Kind

  /// True when the block was larger than the session's `maxHeaderListSize` (counted as RFC 9113
  /// §6.5.2 does: name and value lengths plus 32 per field); the fields past the limit are
  /// dropped, so the receiver must refuse the request rather than act on part of it.
  public var exceedsSizeLimit = false

  @usableFromInline
  var fields: [NGHTTP2HeaderField]

  /// Creates a block, for tests and for code that builds blocks by hand.
  public init(kind: Kind, fields: [NGHTTP2HeaderField]) {
    self.kind = kind
    self.fields = fields
  }

  /// The value of the first field named `name` (lower case), if any.
  @inlinable
  public subscript(name: String) -> String? {
    self.fields.first { $0.name == name }?.value
  }
}

extension NGHTTP2HeaderBlock: RandomAccessCollection {
  /// The position of the first field.
  @inlinable
  public var startIndex: Int { self.fields.startIndex }

  /// The position past the last field.
  @inlinable
  public var endIndex: Int { self.fields.endIndex }

  /// The field at `position`.
  @inlinable
  public subscript(position: Int) -> NGHTTP2HeaderField {
    self.fields[position]
  }
}
