/// A set of message encodings: what a peer accepts (`grpc-accept-encoding`) or what this side
/// has enabled. A bit set, so reading the header allocates nothing.
package struct GRPCMessageEncodingSet: OptionSet, Hashable, Sendable, CustomStringConvertible {
  /// One bit per ``GRPCMessageEncoding``.
  package let rawValue: UInt8

  /// Creates a set from its bits.
  package init(rawValue: UInt8) {
    self.rawValue = rawValue
  }

  /// The set holding one encoding.
  package init(_ encoding: GRPCMessageEncoding) {
    switch encoding {
    case .identity: self = .identity
    case .gzip: self = .gzip
    case .deflate: self = .deflate
    }
  }

  /// Parses a `grpc-accept-encoding` value: a comma-separated list, whitespace tolerant, in which
  /// unsupported names are skipped. Identity is always included, since every peer must accept it.
  package init(acceptEncodingHeader headerValue: some StringProtocol) {
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
  package static let identity = GRPCMessageEncodingSet(rawValue: 1 << 0)
  /// gzip.
  package static let gzip = GRPCMessageEncodingSet(rawValue: 1 << 1)
  /// deflate.
  package static let deflate = GRPCMessageEncodingSet(rawValue: 1 << 2)
  /// Every encoding this implementation supports.
  package static let all: GRPCMessageEncodingSet = [.identity, .gzip, .deflate]

  /// Whether the set holds `encoding`.
  package func contains(_ encoding: GRPCMessageEncoding) -> Bool {
    self.contains(GRPCMessageEncodingSet(encoding))
  }

  /// The `grpc-accept-encoding` value advertising this set, e.g. `identity,deflate,gzip`
  /// (the order grpc-go sends).
  package var headerValue: String {
    let ordered: [GRPCMessageEncoding] = [.identity, .deflate, .gzip]
    return ordered.filter { self.contains($0) }.map(\.rawValue).joined(separator: ",")
  }

  /// The header value, for logs.
  package var description: String {
    self.headerValue
  }
}
