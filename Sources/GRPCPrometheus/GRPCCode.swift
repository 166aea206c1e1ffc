/// A gRPC status code, numbered as on the wire and spelled as Go's `codes.Code.String()` for the
/// `grpc_code` label.
public enum GRPCCode: Int, CaseIterable, Sendable {
  /// Not an error.
  case ok = 0
  /// The operation was cancelled, typically by the caller.
  case canceled = 1
  /// Unknown error.
  case unknown = 2
  /// The client specified an invalid argument.
  case invalidArgument = 3
  /// The deadline expired before the operation could complete.
  case deadlineExceeded = 4
  /// Some requested entity was not found.
  case notFound = 5
  /// The entity that a client attempted to create already exists.
  case alreadyExists = 6
  /// The caller does not have permission to execute the operation.
  case permissionDenied = 7
  /// Some resource has been exhausted.
  case resourceExhausted = 8
  /// The system is not in a state required for the operation's execution.
  case failedPrecondition = 9
  /// The operation was aborted.
  case aborted = 10
  /// The operation was attempted past the valid range.
  case outOfRange = 11
  /// The operation is not implemented or not supported.
  case unimplemented = 12
  /// Internal error.
  case internalError = 13
  /// The service is currently unavailable.
  case unavailable = 14
  /// Unrecoverable data loss or corruption.
  case dataLoss = 15
  /// The request does not have valid authentication credentials.
  case unauthenticated = 16

  /// The label value Go writes for this code (`OK`, `Canceled`, `DeadlineExceeded`, ...).
  public var goName: String {
    Self.goNames[self.rawValue]
  }

  /// Indexed by raw value; Go spells `Canceled` with one "l" and `OK` in capitals.
  private static let goNames = [
    "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
    "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted",
    "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
  ]
}
