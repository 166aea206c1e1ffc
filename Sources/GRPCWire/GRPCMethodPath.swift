/// The `:path` of a gRPC request, `/package.Service/Method`, split into its two names.
///
/// The names are views into the original string, so parsing allocates nothing.
public struct GRPCMethodPath: Hashable, Sendable, CustomStringConvertible {
  /// The fully qualified service name, e.g. `package.Service`.
  public let service: Substring
  /// The method name, e.g. `Method`.
  public let method: Substring

  /// Parses a `:path`. Nil unless it is exactly `/` service `/` method with both names
  /// non-empty and made of visible ASCII other than `/`; a query string, a trailing slash
  /// or a third segment is malformed.
  public init?(_ path: String) {
    let utf8 = path.utf8
    guard utf8.first == UInt8(ascii: "/") else { return nil }
    let serviceStart = utf8.index(after: utf8.startIndex)
    guard let separator = utf8[serviceStart...].firstIndex(of: UInt8(ascii: "/")) else {
      return nil
    }
    let methodStart = utf8.index(after: separator)
    let serviceBytes = utf8[serviceStart..<separator]
    let methodBytes = utf8[methodStart...]
    guard Self.isName(serviceBytes), Self.isName(methodBytes) else { return nil }
    self.service = path[serviceStart..<separator]
    self.method = path[methodStart...]
  }

  /// The path, `/service/method`.
  public var description: String {
    "/\(self.service)/\(self.method)"
  }

  private static func isName(_ bytes: Substring.UTF8View) -> Bool {
    !bytes.isEmpty
      && bytes.allSatisfy { byte in
        byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "/") && byte != UInt8(ascii: "?")
      }
  }
}
