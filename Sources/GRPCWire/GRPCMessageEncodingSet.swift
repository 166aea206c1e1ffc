/// A set of message encodings: what a peer accepts (`grpc-accept-encoding`) or what this side
/// has enabled. A bit set, so reading the header allocates nothing.
public struct GRPCMessageEncodingSet: OptionSet, Hashable, Sendable, CustomStringConvertible {
  /// One bit per ``GRPCMessageEncoding``.
  public let rawValue: UInt8

  /// Creates a set from its bits.
  public init(rawValue: UInt8) {
    self.rawValue = rawValue
  }

  /// The set holding one encoding.
  public init(_ encoding: GRPCMessageEncoding) {
    switch encoding {
    case .identity: self = .identity
    case .gzip: self = .gzip
    case .deflate: self = .deflate
    }
  }

  /// Parses a `grpc-accept-encoding` value: a comma-separated list, whitespace tolerant, in which
  /// unsupported names are skipped. Identity is always included, since every peer must accept it.
  public init(acceptEncodingHeader headerValue: some StringProtocol) {
    self = .identity
    for name in Substring(headerValue).utf8.split(separator: UInt8(ascii: ",")) {
      let trimmed = name.trimmingHTTPWhitespace()
      if let encoding = GRPCMessageEncoding.allCases.first(where: {
        trimmed.equalsASCIICaseInsensitive($0.rawValue)
      }) {
        self.insert(GRPCMessageEncodingSet(encoding))
      }
    }
  }

  /// No compression.
  public static let identity = GRPCMessageEncodingSet(rawValue: 1 << 0)
  /// gzip.
  public static let gzip = GRPCMessageEncodingSet(rawValue: 1 << 1)
  /// deflate.
  public static let deflate = GRPCMessageEncodingSet(rawValue: 1 << 2)
  /// Every encoding this implementation supports.
  public static let all: GRPCMessageEncodingSet = [.identity, .gzip, .deflate]

  /// Whether the set holds `encoding`.
  public func contains(_ encoding: GRPCMessageEncoding) -> Bool {
    self.contains(GRPCMessageEncodingSet(encoding))
  }

  /// The `grpc-accept-encoding` value advertising this set, e.g. `identity,deflate,gzip`
  /// (the order grpc-go sends).
  public var headerValue: String {
    let ordered: [GRPCMessageEncoding] = [.identity, .deflate, .gzip]
    return ordered.filter { self.contains($0) }.map(\.rawValue).joined(separator: ",")
  }

  /// The header value, for logs.
  public var description: String {
    self.headerValue
  }
}
