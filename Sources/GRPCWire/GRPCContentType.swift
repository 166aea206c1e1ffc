/// The `content-type` of a gRPC request.
///
/// Only the protobuf codec is served, so `application/grpc` (which means protobuf) and
/// `application/grpc+proto` are accepted, with or without parameters; everything else,
/// including other codecs such as `application/grpc+json`, is refused (HTTP 415).
public enum GRPCContentType: Hashable, Sendable {
  /// `application/grpc`.
  case grpc
  /// `application/grpc+proto`.
  case grpcProto

  /// The value a server sends in response headers.
  public static let responseHeaderValue = "application/grpc"

  /// Parses a `content-type` value; media types are case-insensitive and parameters
  /// (`; charset=utf-8`) are ignored. Nil for anything that is not gRPC over protobuf.
  public init?(headerValue: String) {
    // Nearly every client sends exactly this: one byte comparison instead of a parse.
    if headerValue == Self.responseHeaderValue {
      self = .grpc
    } else {
      self.init(parsing: headerValue)
    }
  }

  /// Parses a `content-type` value; see ``init(headerValue:)-(String)``.
  public init?(headerValue: some StringProtocol) {
    self.init(parsing: headerValue)
  }

  private init?(parsing headerValue: some StringProtocol) {
    let utf8 = Substring(headerValue).utf8
    let mediaType = utf8[..<(utf8.firstIndex(of: UInt8(ascii: ";")) ?? utf8.endIndex)]
      .trimmingHTTPWhitespace()
    if mediaType.equalsASCIICaseInsensitive("application/grpc") {
      self = .grpc
    } else if mediaType.equalsASCIICaseInsensitive("application/grpc+proto") {
      self = .grpcProto
    } else {
      return nil
    }
  }
}
