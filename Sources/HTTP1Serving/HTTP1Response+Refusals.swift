import NIOCore

/// The answers ``HTTP1RequestGuard`` ends a connection with: each says what was wrong.
extension HTTP1Response {
  /// `431`, or `414` while the request line itself has not ended (RFC 9112 §3: a target longer
  /// than the server will parse); `requestLineLength` is how long the request line is so far,
  /// `nil` once the head is complete.
  static func headTooLarge(limit: Int, requestLineLength: Int?) -> HTTP1Response {
    if let requestLineLength, requestLineLength > limit {
      return .text(
        .uriTooLong, "the request target is too long: the request line is over \(limit) bytes\n")
    }
    return .text(.requestHeaderFieldsTooLarge, "the request head is over \(limit) bytes\n")
  }

  /// `413`.
  static func bodyTooLarge(limit: Int) -> HTTP1Response {
    .text(.payloadTooLarge, "the request body is over \(limit) bytes\n")
  }

  /// `408` for a request `part` ("head" or "body") that did not arrive within `timeout`.
  static func timedOut(_ part: String, after timeout: TimeAmount) -> HTTP1Response {
    let milliseconds = timeout.nanoseconds / 1_000_000
    let time = milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
    return .text(.requestTimeout, "the request \(part) did not arrive within \(time)\n")
  }
}
