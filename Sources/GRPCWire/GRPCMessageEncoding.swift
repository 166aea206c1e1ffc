/// A message compression algorithm, as named by `grpc-encoding` and `grpc-accept-encoding`.
public enum GRPCMessageEncoding: String, CaseIterable, Hashable, Sendable {
  /// No compression.
  case identity
  /// gzip (RFC 1952).
  case gzip
  /// zlib-wrapped deflate (RFC 1950), which is what HTTP and gRPC call "deflate".
  case deflate

  /// Parses one encoding name, ignoring surrounding whitespace and letter case;
  /// nil for an encoding this implementation does not support (e.g. `snappy`).
  public init?(headerValue: some StringProtocol) {
    let name = Substring(headerValue).utf8.trimmingHTTPWhitespace()
    guard
      let encoding = Self.allCases.first(where: { name.equalsASCIICaseInsensitive($0.rawValue) })
    else { return nil }
    self = encoding
  }

  /// The name to send in `grpc-encoding`.
  public var headerValue: String {
    self.rawValue
  }

  /// Chooses the encoding of a response's messages.
  ///
  /// The server mirrors the request's encoding when it has that encoding enabled: a client that
  /// compressed its request can decompress the same algorithm. A client that sent identity gets
  /// identity even if it accepts more, because for small messages compression costs both sides
  /// more CPU than the bytes it saves (grpc-go and grpc-java behave the same way).
  public static func responseEncoding(
    requestEncoding: GRPCMessageEncoding,
    enabled: GRPCMessageEncodingSet
  ) -> GRPCMessageEncoding {
    enabled.contains(requestEncoding) ? requestEncoding : .identity
  }
}
