internal import CNGHTTP2

/// A failure reported by an ``NGHTTP2Session``: what went wrong, and what the caller should do.
public struct NGHTTP2Error: Error, Hashable, Sendable, CustomStringConvertible {
  /// The kind of failure; new kinds may be added, so switch over it with a `default` case.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Value: Hashable, Sendable {
      case protocolViolation
      case streamClosed
      case invalidState
      case sessionFailure
    }

    private let value: Value

    private init(_ value: Value) {
      self.value = value
    }

    /// The peer sent bytes that are not valid HTTP/2 (a bad connection preface, a flood of
    /// frames). Drain the session once more, write what it queued (usually a GOAWAY), and close.
    public static let protocolViolation = Code(.protocolViolation)

    /// The stream is gone: the peer reset it, or it ended. Drop the submission.
    public static let streamClosed = Code(.streamClosed)

    /// The call does not fit the stream's or the session's state (data after the end of a
    /// stream, trailers before headers, a server-only call on a client). A caller's bug.
    public static let invalidState = Code(.invalidState)

    /// nghttp2 failed internally (out of memory, a callback failed). Close the connection.
    public static let sessionFailure = Code(.sessionFailure)

    /// The code's name, for logs.
    public var description: String {
      switch self.value {
      case .protocolViolation: "protocolViolation"
      case .streamClosed: "streamClosed"
      case .invalidState: "invalidState"
      case .sessionFailure: "sessionFailure"
      }
    }
  }

  /// The kind of failure.
  public var code: Code

  /// What happened and what to do about it.
  public var message: String

  /// nghttp2's own (negative) error code, or 0 when the Swift layer raised the error itself.
  public var libraryErrorCode: Int

  /// Creates an error.
  public init(code: Code, message: String, libraryErrorCode: Int = 0) {
    self.code = code
    self.message = message
    self.libraryErrorCode = libraryErrorCode
  }

  /// `code: message`, for logs.
  public var description: String {
    "\(self.code): \(self.message)"
  }
}

extension NGHTTP2Error {
  /// Wraps an nghttp2 return code, naming the operation that failed.
  init(libraryErrorCode: Int, while operation: String) {
    let code = Int32(truncatingIfNeeded: libraryErrorCode)
    let reason = String(cString: nghttp2_strerror(code))
    let kind: Code
    let advice: String
    switch code {
    case NGHTTP2_ERR_BAD_CLIENT_MAGIC.rawValue, NGHTTP2_ERR_FLOODED.rawValue,
      NGHTTP2_ERR_TOO_MANY_CONTINUATIONS.rawValue, NGHTTP2_ERR_PROTO.rawValue:
      kind = .protocolViolation
      advice = "drain the session once more, write the result and close the connection"
    case NGHTTP2_ERR_STREAM_CLOSED.rawValue, NGHTTP2_ERR_STREAM_CLOSING.rawValue,
      NGHTTP2_ERR_STREAM_SHUT_WR.rawValue, NGHTTP2_ERR_INVALID_STREAM_ID.rawValue:
      kind = .streamClosed
      advice = "the stream has ended; drop this submission"
    case NGHTTP2_ERR_NOMEM.rawValue, NGHTTP2_ERR_CALLBACK_FAILURE.rawValue:
      kind = .sessionFailure
      advice = "close the connection"
    default:
      kind = .invalidState
      advice = "check the order of calls on this stream or session"
    }
    self.init(
      code: kind,
      message: "nghttp2 failed while \(operation): \(reason) (\(code)); \(advice)",
      libraryErrorCode: libraryErrorCode
    )
  }
}
