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

  /// Takes in a header block: the response headers first, then the trailers. One pass over the
  /// fields as bytes; Strings are made only for the values read and for metadata.
  public mutating func receive(_ headers: NGHTTP2HeaderBlock) {
    let isResponseHead = headers.kind == .response && self.httpStatus == nil
    var httpStatus: Int?
    var contentType: GRPCContentType?
    var encoding: GRPCMessageEncoding?
    var grpcStatus: String?
    var grpcMessage: String?
    // The first of repeated fields counts.
    headers.forEachRawField { name, value in
      switch name.count {
      case 7 where isResponseHead && httpStatus == nil && name.equals(":status"):
        httpStatus = Int(String(decoding: value, as: UTF8.self)) ?? 0
      case 11 where grpcStatus == nil && name.equals("grpc-status"):
        grpcStatus = String(decoding: value, as: UTF8.self)
      case 12 where grpcMessage == nil && name.equals("grpc-message"):
        grpcMessage = String(decoding: value, as: UTF8.self)
      case 12 where isResponseHead && contentType == nil && name.equals("content-type"):
        contentType =
          NGHTTP2HeaderBlock.bytes(value, equal: GRPCContentType.responseHeaderValue)
          ? .grpc : GRPCContentType(headerValue: String(decoding: value, as: UTF8.self))
      case 13 where isResponseHead && encoding == nil && name.equals("grpc-encoding"):
        encoding = GRPCMessageEncoding(headerValue: String(decoding: value, as: UTF8.self))
      default:
        guard Self.isMetadata(name) else { break }
        self.metadata.append(
          (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
      }
    }
    if isResponseHead {
      self.httpStatus = httpStatus ?? 0
      self.isGRPC = contentType != nil
      if let encoding {
        self.deframer = GRPCMessageDeframer(
          maxMessageSize: self.maxMessageSize, encoding: encoding)
      }
    }
    if let grpcStatus {
      self.status = GRPCStatus(
        code: GRPCStatus.Code(headerValue: grpcStatus),
        message: grpcMessage.map { GRPCStatus.percentDecode($0) } ?? "")
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

  /// Whether a field is the application's: not a pseudo-header, `grpc-*` or `content-type`.
  private static func isMetadata(_ name: UnsafeRawBufferPointer) -> Bool {
    name.first != UInt8(ascii: ":")
      && !UnsafeRawBufferPointer(rebasing: name.prefix(5)).equals("grpc-")
      && !name.equals("content-type")
  }
}
