extension GRPCStatus {
  /// The canonical gRPC status codes; the raw value is what `grpc-status` carries.
  public enum Code: Int, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// Not an error.
    case ok = 0
    /// The operation was cancelled, typically by the caller.
    case cancelled = 1
    /// Unknown error, e.g. a status code from another error space.
    case unknown = 2
    /// The client specified an invalid argument.
    case invalidArgument = 3
    /// The deadline expired before the operation could complete.
    case deadlineExceeded = 4
    /// Some requested entity was not found.
    case notFound = 5
    /// The entity the client attempted to create already exists.
    case alreadyExists = 6
    /// The caller lacks permission for the operation.
    case permissionDenied = 7
    /// Some resource (quota, memory, message size) has been exhausted.
    case resourceExhausted = 8
    /// The system is not in a state required for the operation.
    case failedPrecondition = 9
    /// The operation was aborted, typically due to a concurrency issue.
    case aborted = 10
    /// The operation was attempted past the valid range.
    case outOfRange = 11
    /// The operation is not implemented or supported.
    case unimplemented = 12
    /// An invariant expected by the underlying system was broken.
    case internalError = 13
    /// The service is currently unavailable; retrying may succeed.
    case unavailable = 14
    /// Unrecoverable data loss or corruption.
    case dataLoss = 15
    /// The request lacks valid authentication credentials.
    case unauthenticated = 16

    /// Reads a `grpc-status` value; anything that is not a known code reads as `UNKNOWN`,
    /// as the specification asks clients to do.
    public init(headerValue: some StringProtocol) {
      var value = 0
      for byte in headerValue.utf8 {
        guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte), value <= 16 else {
          self = .unknown
          return
        }
        value = value * 10 + Int(byte - UInt8(ascii: "0"))
      }
      self = headerValue.isEmpty ? .unknown : Code(rawValue: value) ?? .unknown
    }

    /// The decimal form `grpc-status` carries.
    public var headerValue: String {
      String(self.rawValue)
    }

    /// The canonical upper-case name used in logs and metric labels, e.g. `DEADLINE_EXCEEDED`.
    public var name: String {
      switch self {
      case .ok: "OK"
      case .cancelled: "CANCELLED"
      case .unknown: "UNKNOWN"
      case .invalidArgument: "INVALID_ARGUMENT"
      case .deadlineExceeded: "DEADLINE_EXCEEDED"
      case .notFound: "NOT_FOUND"
      case .alreadyExists: "ALREADY_EXISTS"
      case .permissionDenied: "PERMISSION_DENIED"
      case .resourceExhausted: "RESOURCE_EXHAUSTED"
      case .failedPrecondition: "FAILED_PRECONDITION"
      case .aborted: "ABORTED"
      case .outOfRange: "OUT_OF_RANGE"
      case .unimplemented: "UNIMPLEMENTED"
      case .internalError: "INTERNAL"
      case .unavailable: "UNAVAILABLE"
      case .dataLoss: "DATA_LOSS"
      case .unauthenticated: "UNAUTHENTICATED"
      }
    }

    /// The canonical name, e.g. `DEADLINE_EXCEEDED`.
    public var description: String {
      self.name
    }
  }
}
