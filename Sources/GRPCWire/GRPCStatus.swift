/// The outcome of an RPC as carried in the `grpc-status` and `grpc-message` trailers.
///
/// A status is an `Error` so that a handler can end its call by throwing the status it means.
public struct GRPCStatus: Error, Hashable, Sendable, CustomStringConvertible {
  /// The canonical status code.
  public var code: Code
  /// A human-readable explanation; empty for most successful calls.
  public var message: String

  /// Creates a status.
  public init(code: Code, message: String = "") {
    self.code = code
    self.message = message
  }

  /// The status of a successful call, with no message.
  public static let ok = GRPCStatus(code: .ok)

  /// "CODE" or "CODE: message", for logs.
  public var description: String {
    self.message.isEmpty ? self.code.name : "\(self.code.name): \(self.message)"
  }
}
