import GRPCWire
import NGHTTP2

/// What the server needs from a request's header block, read in one pass.
struct RequestHead {
  var method = ""
  var path = ""
  var contentType: String?
  /// The raw `grpc-encoding` value; `nil` when absent.
  var encodingHeader: String?
  var acceptEncodings: GRPCMessageEncodingSet = .identity
  var timeoutHeader: String?
  var metadata: [(name: String, value: String)] = []
  /// The block was over the advertised header list size and arrived cut short.
  var exceedsSizeLimit = false

  init(_ headers: NGHTTP2HeaderBlock) {
    self.exceedsSizeLimit = headers.exceedsSizeLimit
    // Names arrive lower-case (nghttp2 enforces it). Switching on the length first means each
    // header costs one string comparison, not one per name this server knows.
    for (name, value) in headers {
      switch name.utf8.count {
      case 2 where name == "te": continue
      case 5 where name == ":path": self.path = value
      case 7 where name == ":method": self.method = value
      case 7 where name == ":scheme": continue
      case 10 where name == ":authority": continue
      case 10 where name == "user-agent": self.metadata.append((name, value))
      case 12 where name == "content-type": self.contentType = value
      case 12 where name == "grpc-timeout": self.timeoutHeader = value
      case 13 where name == "grpc-encoding": self.encodingHeader = value
      case 20 where name == "grpc-accept-encoding":
        self.acceptEncodings = GRPCMessageEncodingSet(acceptEncodingHeader: value)
      default:
        if !GRPCMetadata.isReservedHeader(name) { self.metadata.append((name, value)) }
      }
    }
  }

  /// A request that is not gRPC at all gets a plain HTTP answer (with a gRPC status for clients
  /// that look only at that), before any method is resolved or counted.
  var httpRejection: [NGHTTP2HeaderField]? {
    // A block cut short may lack the fields checked here; it is refused as a gRPC call below.
    guard !self.exceedsSizeLimit else { return nil }
    if self.method != "POST" {
      return Self.rejection(
        status: "405", message: "HTTP method \(self.method) not allowed: gRPC requires POST")
    }
    guard let contentType = self.contentType, GRPCContentType(headerValue: contentType) != nil
    else {
      return Self.rejection(
        status: "415",
        message: "invalid gRPC request content-type \"\(self.contentType ?? "")\";"
          + " expected application/grpc")
    }
    return nil
  }

  var encoding: GRPCMessageEncoding? {
    self.encodingHeader.flatMap { GRPCMessageEncoding(headerValue: $0) }
  }

  var timeout: GRPCTimeout? {
    self.timeoutHeader.flatMap { GRPCTimeout(headerValue: $0) }
  }

  func responseEncoding(enabled: GRPCMessageEncodingSet) -> GRPCMessageEncoding {
    guard let encoding = self.encoding, self.acceptEncodings.contains(encoding) else {
      return .identity
    }
    return GRPCMessageEncoding.responseEncoding(requestEncoding: encoding, enabled: enabled)
  }

  /// A gRPC-level reason to end a routed call at once, with the status that says why.
  func grpcRejection(for route: RPCRouter.Route, enabled: GRPCMessageEncodingSet) -> GRPCStatus? {
    if self.exceedsSizeLimit {
      return GRPCStatus(
        code: .resourceExhausted,
        message: "request headers exceed the server's limit (SETTINGS_MAX_HEADER_LIST_SIZE)")
    }
    guard route.handler != nil else {
      return GRPCStatus(code: .unimplemented, message: "unknown method \(self.path)")
    }
    if let header = self.encodingHeader {
      guard let encoding = GRPCMessageEncoding(headerValue: header), enabled.contains(encoding)
      else {
        return GRPCStatus(
          code: .unimplemented,
          message: "grpc-encoding \"\(header)\" is not supported; supported: \(enabled.headerValue)"
        )
      }
    }
    if let header = self.timeoutHeader, GRPCTimeout(headerValue: header) == nil {
      return GRPCStatus(code: .invalidArgument, message: "malformed grpc-timeout \"\(header)\"")
    }
    return nil
  }

  private static func rejection(status: String, message: String) -> [NGHTTP2HeaderField] {
    [
      (":status", status),
      ("content-type", GRPCContentType.responseHeaderValue),
      ("grpc-status", GRPCStatus.Code.internalError.headerValue),
      ("grpc-message", GRPCStatus.percentEncode(message)),
    ]
  }
}
