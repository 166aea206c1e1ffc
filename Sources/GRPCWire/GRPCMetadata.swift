/// Rules for the HTTP/2 headers that carry gRPC custom metadata.
///
/// Header names arrive lower-case (HTTP/2 requires it and nghttp2 enforces it), so names are
/// compared exactly.
public enum GRPCMetadata {
  /// Whether a header belongs to the gRPC protocol rather than to the application, so it must
  /// not be handed to handlers as metadata nor accepted from them: pseudo-headers (`:path`,
  /// `:status`, ...), `content-type`, `te`, `grpc-timeout`, `grpc-encoding`,
  /// `grpc-accept-encoding`, `grpc-message-type`, `grpc-status`, `grpc-message` and
  /// `grpc-status-details-bin`.
  ///
  /// `grpc-status-details-bin` is reserved because it is part of the status (a serialized
  /// `google.rpc.Status` that must agree with `grpc-status`), so it travels with the status, not
  /// as free-form metadata; grpc-go treats it the same way. `user-agent` and the retry headers
  /// (`grpc-previous-rpc-attempts`, `grpc-retry-pushback-ms`) are metadata.
  public static func isReservedHeader(_ name: some StringProtocol) -> Bool {
    var name = String(name)
    return name.withUTF8 { Self.isReservedHeader(utf8: UnsafeRawBufferPointer($0)) }
  }

  /// ``isReservedHeader(_:)`` for a name given as its UTF-8 bytes, such as a header block's raw
  /// field.
  @inlinable
  public static func isReservedHeader(utf8 name: UnsafeRawBufferPointer) -> Bool {
    if name.first == UInt8(ascii: ":") { return true }
    // Switching on the length first costs one comparison per header instead of one per name.
    switch name.count {
    case 2: return name.equals("te")
    case 11: return name.equals("grpc-status")
    case 12:
      return name.equals("content-type") || name.equals("grpc-timeout")
        || name.equals("grpc-message")
    case 13: return name.equals("grpc-encoding")
    case 17: return name.equals("grpc-message-type")
    case 20: return name.equals("grpc-accept-encoding")
    case 23: return name.equals("grpc-status-details-bin")
    default: return false
    }
  }

  /// Whether a metadata key carries binary values, which travel base64-encoded: its name ends
  /// in `-bin`.
  public static func isBinaryHeader(_ name: some StringProtocol) -> Bool {
    name.utf8.count > 4 && name.hasSuffix("-bin")
  }

  /// The same for a name as nghttp2 delivers it (lower-case bytes).
  public static func isBinaryHeader(utf8 name: UnsafeRawBufferPointer) -> Bool {
    name.count > 4 && UnsafeRawBufferPointer(rebasing: name[(name.count - 4)...]).equals("-bin")
  }

  /// Decodes a binary metadata value, padded or not (the specification requires accepting
  /// both); nil if it is not base64.
  public static func decodeBinaryValue(_ value: some StringProtocol) -> [UInt8]? {
    Base64.decode(value)
  }
}
