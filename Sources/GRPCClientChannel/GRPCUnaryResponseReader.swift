import GRPCWire
import NGHTTP2
import NIOCore

/// Turns what arrives on one HTTP/2 stream (response headers, DATA, trailers, how the stream
/// closed) into a unary call's outcome, following the gRPC over HTTP/2 specification: the status
/// comes from `grpc-status` in the trailers (or in a trailers-only response); a response that is
/// not gRPC at all is mapped from its HTTP status; a stream reset is `CANCELLED` or
/// `UNAVAILABLE`; a successful unary call carries exactly one message.
///
/// A value with no I/O, so the rules are tested without a socket.
public struct GRPCUnaryResponseReader: Sendable {
  private var deframer: GRPCMessageDeframer
  private let maxMessageSize: Int
  private var httpStatus: Int?
  private var isGRPC = false
  private var status: GRPCStatus?
  private var wireError: GRPCWireError?
  private var messages: [ByteBuffer] = []
  private(set) var metadata: [(name: String, value: String)] = []

  /// Creates a reader that refuses response messages over `maxMessageSize` bytes.
  public init(maxMessageSize: Int) {
    self.maxMessageSize = maxMessageSize
    self.deframer = GRPCMessageDeframer(maxMessageSize: maxMessageSize)
  }

  /// How many response messages have been read so far.
  public var messageCount: Int { self.messages.count }

  /// True once the response headers (or a trailers-only response) have arrived.
  public var hasResponse: Bool { self.httpStatus != nil }

  /// Takes in a header block: the response headers first, then the trailers.
  public mutating func receive(_ headers: NGHTTP2HeaderBlock) {
    if headers.kind == .response && self.httpStatus == nil {
      self.httpStatus = headers[":status"].flatMap { Int($0) } ?? 0
      self.isGRPC = headers["content-type"].flatMap { GRPCContentType(headerValue: $0) } != nil
      if let encoding = headers["grpc-encoding"].flatMap({ GRPCMessageEncoding(headerValue: $0) }) {
        self.deframer = GRPCMessageDeframer(
          maxMessageSize: self.maxMessageSize, encoding: encoding)
      }
    }
    if let code = headers["grpc-status"] {
      self.status = GRPCStatus(
        code: GRPCStatus.Code(headerValue: code),
        message: headers["grpc-message"].map { GRPCStatus.percentDecode($0) } ?? "")
    }
    for field in headers where Self.isMetadata(field.name) {
      self.metadata.append((field.name, field.value))
    }
  }

  /// Takes in DATA bytes; those of a response that is not gRPC are not read.
  public mutating func receive(_ data: ByteBuffer) {
    guard self.isGRPC, self.wireError == nil else { return }
    self.deframer.append(data)
    do {
      while let message = try self.deframer.next() {
        self.messages.append(message)
      }
    } catch {
      self.wireError = error
    }
  }

  /// How a call ended: its status, the message of an OK call, and whether the status is the
  /// server's own `grpc-status` rather than one this client concluded (from a reset, the HTTP
  /// status, or a reply it could not accept).
  public typealias Outcome = (status: GRPCStatus, message: ByteBuffer?, isServerStatus: Bool)

  /// The outcome once the stream has closed with HTTP/2 error code `errorCode` (an
  /// ``HTTP2ErrorCode``; `noError` when it closed normally).
  public func finish(errorCode: HTTP2ErrorCode) -> Outcome {
    if let wireError = self.wireError {
      return (Self.status(for: wireError), nil, false)
    }
    guard let httpStatus = self.httpStatus else {
      return (Self.statusForReset(errorCode), nil, false)
    }
    guard httpStatus == 200 else {
      return (Self.statusForHTTP(httpStatus), nil, false)
    }
    guard self.isGRPC else {
      return (
        GRPCStatus(code: .unknown, message: "the response is not gRPC (content-type)"), nil, false
      )
    }
    guard let status = self.status else {
      return (
        errorCode == .noError
          ? GRPCStatus(code: .internalError, message: "the server sent no grpc-status")
          : Self.statusForReset(errorCode), nil, false
      )
    }
    guard status.code == .ok else { return (status, nil, true) }
    do {
      try self.deframer.finish()
    } catch {
      return (Self.status(for: error), nil, false)
    }
    guard self.messages.count == 1, let message = self.messages.first else {
      return (
        GRPCStatus(
          code: .internalError,
          message: "a unary response needs exactly one message, got \(self.messages.count)"),
        nil, false
      )
    }
    return (status, message, true)
  }

  /// A reply that broke the wire rules: the server's fault, so INTERNAL, but for one over this
  /// client's limit, which gRPC reports as RESOURCE_EXHAUSTED on either side.
  private static func status(for error: GRPCWireError) -> GRPCStatus {
    GRPCStatus(code: error.statusCode, message: "reading the response: \(error.message)")
  }

  /// The status of a stream that closed before a response: REFUSED_STREAM means the server never
  /// processed it (safe to retry), CANCEL that it was cancelled; anything else is a failure.
  static func statusForReset(_ errorCode: HTTP2ErrorCode) -> GRPCStatus {
    switch errorCode {
    case .noError, .refusedStream:
      GRPCStatus(code: .unavailable, message: "the server closed the stream without a response")
    case .cancel:
      GRPCStatus(code: .cancelled, message: "the stream was cancelled")
    default:
      GRPCStatus(
        code: .internalError, message: "the stream was reset with HTTP/2 error \(errorCode)")
    }
  }

  /// The gRPC specification's mapping of a non-200 HTTP status to a gRPC code.
  static func statusForHTTP(_ status: Int) -> GRPCStatus {
    let code: GRPCStatus.Code =
      switch status {
      case 400: .internalError
      case 401: .unauthenticated
      case 403: .permissionDenied
      case 404: .unimplemented
      case 429, 502, 503, 504: .unavailable
      default: .unknown
      }
    return GRPCStatus(code: code, message: "the server answered HTTP \(status)")
  }

  private static func isMetadata(_ name: String) -> Bool {
    !name.hasPrefix(":") && !name.hasPrefix("grpc-") && name != "content-type"
  }
}
