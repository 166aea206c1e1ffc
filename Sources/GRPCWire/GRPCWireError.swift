/// An error raised while applying the gRPC wire rules to bytes a peer sent (or to a message
/// this side is about to send).
///
/// The ``message`` is written to be sent back to the peer as the gRPC status message, so it says
/// what went wrong and, where the peer can fix it, what to change.
public struct GRPCWireError: Error, Hashable, Sendable, CustomStringConvertible {
  /// What kind of rule was broken; new codes may be added, so switches need a `default`.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable {
      case messageTooLarge
      case compressedWithoutEncoding
      case decompressionFailed
      case compressionFailed
      case invalidFlag
      case truncatedMessage
    }

    private let wrapped: Wrapped

    private init(_ wrapped: Wrapped) {
      self.wrapped = wrapped
    }

    /// A message (as announced by its length prefix, or once decompressed) exceeds the limit.
    public static let messageTooLarge = Code(.messageTooLarge)
    /// A message has the compressed flag set but the stream negotiated no message encoding.
    public static let compressedWithoutEncoding = Code(.compressedWithoutEncoding)
    /// A compressed message could not be decompressed with the negotiated encoding.
    public static let decompressionFailed = Code(.decompressionFailed)
    /// An outgoing message could not be compressed.
    public static let compressionFailed = Code(.compressionFailed)
    /// The flag byte of a length-prefixed message has bits other than "compressed" set.
    public static let invalidFlag = Code(.invalidFlag)
    /// The stream ended in the middle of a length-prefixed message.
    public static let truncatedMessage = Code(.truncatedMessage)

    /// The code's name, for logs.
    public var description: String {
      String(describing: self.wrapped)
    }
  }

  /// What kind of rule was broken.
  public var code: Code
  /// A sentence fit to be the gRPC status message sent to the peer.
  public var message: String

  /// Creates an error.
  public init(code: Code, message: String) {
    self.code = code
    self.message = message
  }

  /// The status code a server answers with: a message over the size limit is a resource the
  /// peer asked for and was refused (RESOURCE_EXHAUSTED); every other violation is a broken
  /// peer (INTERNAL), as the gRPC specification prescribes.
  public var statusCode: GRPCStatus.Code {
    self.code == .messageTooLarge ? .resourceExhausted : .internalError
  }

  /// "code: message", for logs.
  public var description: String {
    "\(self.code): \(self.message)"
  }
}
