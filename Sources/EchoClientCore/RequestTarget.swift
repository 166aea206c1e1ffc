/// A request target (`/echo?m=hello`) split at its first `?` into the path and the query, by
/// bytes (a request target is ASCII; no grapheme breaking needed).
struct RequestTarget {
  /// Everything before the first `?`.
  let path: Substring
  /// Everything after the first `?`; empty when there is none.
  let query: Substring

  init(_ uri: String) {
    if let mark = uri.utf8.firstIndex(of: UInt8(ascii: "?")) {
      self.path = uri[..<mark]
      self.query = uri[uri.utf8.index(after: mark)...]
    } else {
      self.path = uri[...]
      self.query = ""
    }
  }
}
