/// An error raised while applying the gRPC wire rules to bytes a peer sent (or to a message
/// this side is about to send).
///
/// The ``message`` is written to be sent back to the peer as the gRPC status message, so it says
/// what went wrong and, where the peer can fix it, what to change.
package struct GRPCWireError: Error, Hashable, Sendable, CustomStringConvertible {
  /// What kind of rule was broken; new codes may be added, so switches need a `default`.
  package struct Code: Hashable, Sendable, CustomStringConvertible {
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
    package static let messageTooLarge = Code(.messageTooLarge)
    /// A message has the compressed flag set but the stream negotiated no message encoding.
    package static let compressedWithoutEncoding = Code(.compressedWithoutEncoding)
    /// A compressed message could not be decompressed with the negotiated encoding.
    package static let decompressionFailed = Code(.decompressionFailed)
    /// An outgoing message could not be compressed.
    package static let compressionFailed = Code(.compressionFailed)
    /// The flag byte of a length-prefixed message has bits other than "compressed" set.
    package static let invalidFlag = Code(.invalidFlag)
    /// The stream ended in the middle of a length-prefixed message.
    package static let truncatedMessage = Code(.truncatedMessage)

    /// The code's name, for logs.
    package var description: String {
      String(describing: self.wrapped)
    }
  }

  /// What kind of rule was broken.
  package var code: Code
  /// A sentence fit to be the gRPC status message sent to the peer.
  package var message: String

  package init(code: Code, message: String) {
    self.code = code
    self.message = message
  }

  /// The status code a server answers with: a message over the size limit is a resource the
  /// peer asked for and was refused (RESOURCE_EXHAUSTED); every other violation is a broken
  /// peer (INTERNAL), as the gRPC specification prescribes.
  package var statusCode: GRPCStatus.Code {
    self.code == .messageTooLarge ? .resourceExhausted : .internalError
  }

  /// "code: message", for logs.
  package var description: String {
    "\(self.code): \(self.message)"
  }
}
