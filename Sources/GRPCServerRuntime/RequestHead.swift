import GRPCWire
import NGHTTP2

/// What the server needs from a request's header block, read in one pass over the block's bytes.
///
/// Strings are made only of what a call keeps: the timeout and encodings when sent, metadata
/// only when it differs from the previous request's (see ``metadata``), and the path only when
/// it is not the connection's cached route (see ``pathEquals(_:)``).
struct RequestHead {
  /// The block read; the positions below index into it.
  let headers: NGHTTP2HeaderBlock
  private let methodIndex: Int?
  private let pathIndex: Int?
  private let contentTypeIndex: Int?
  /// The raw `grpc-encoding` value; `nil` when absent.
  let encodingHeader: String?
  let acceptEncodings: GRPCMessageEncodingSet
  let timeoutHeader: String?
  /// How many fields are custom metadata (not reserved by gRPC or HTTP/2).
  private let metadataCount: Int
  /// The first `-bin` field whose value is not base64, if any.
  private let malformedBinaryIndex: Int?
  /// The previous request's metadata on the connection, and whether this request repeats it
  /// field for field (as requests on one connection usually do: the user agent, a tenant...).
  private let previousMetadata: [(name: String, value: String)]
  private let repeatsPreviousMetadata: Bool

  /// Reads `headers`, comparing its metadata with `previousMetadata` on the way.
  init(_ headers: NGHTTP2HeaderBlock, previousMetadata: [(name: String, value: String)] = []) {
    self.headers = headers
    self.previousMetadata = previousMetadata
    // The pass fills locals, not `self`: a closure that captures `self` in an initializer makes
    // it copy the whole value in and out.
    var position = 0
    var methodIndex: Int?
    var pathIndex: Int?
    var contentTypeIndex: Int?
    var encodingHeader: String?
    var acceptEncodings = GRPCMessageEncodingSet.identity
    var timeoutHeader: String?
    var metadataCount = 0
    var malformedBinaryIndex: Int?
    var repeatsPreviousMetadata = true
    // Names arrive lower-case (nghttp2 enforces it). Switching on the length first means each
    // header costs one byte comparison, not one per name this server knows.
    headers.forEachRawField { name, value in
      defer { position += 1 }
      switch name.count {
      case 5 where name.equals(":path"): pathIndex = position
      case 7 where name.equals(":method"): methodIndex = position
      case 12 where name.equals("content-type"): contentTypeIndex = position
      case 12 where name.equals("grpc-timeout"):
        timeoutHeader = String(decoding: value, as: UTF8.self)
      case 13 where name.equals("grpc-encoding"):
        encodingHeader = String(decoding: value, as: UTF8.self)
      case 20 where name.equals("grpc-accept-encoding"):
        acceptEncodings = GRPCMessageEncodingSet(
          acceptEncodingHeader: String(decoding: value, as: UTF8.self))
      default:
        guard !GRPCMetadata.isReservedHeader(utf8: name) else { break }
        if malformedBinaryIndex == nil, GRPCMetadata.isBinaryHeader(utf8: name),
          GRPCMetadata.decodeBinaryValue(String(decoding: value, as: UTF8.self)) == nil
        {
          malformedBinaryIndex = position
        }
        if repeatsPreviousMetadata {
          repeatsPreviousMetadata =
            metadataCount < previousMetadata.count
            && NGHTTP2HeaderBlock.bytes(name, equal: previousMetadata[metadataCount].name)
            && NGHTTP2HeaderBlock.bytes(value, equal: previousMetadata[metadataCount].value)
        }
        metadataCount += 1
      }
    }
    self.methodIndex = methodIndex
    self.pathIndex = pathIndex
    self.contentTypeIndex = contentTypeIndex
    self.encodingHeader = encodingHeader
    self.acceptEncodings = acceptEncodings
    self.timeoutHeader = timeoutHeader
    self.metadataCount = metadataCount
    self.malformedBinaryIndex = malformedBinaryIndex
    self.repeatsPreviousMetadata =
      repeatsPreviousMetadata && metadataCount == previousMetadata.count
  }

  /// The block was over the advertised header list size and arrived cut short.
  var exceedsSizeLimit: Bool { self.headers.exceedsSizeLimit }

  /// `:method`, or empty when missing.
  var method: String { self.methodIndex.map { self.headers.value(at: $0) } ?? "" }

  /// `:path`, or empty when missing.
  var path: String { self.pathIndex.map { self.headers.value(at: $0) } ?? "" }

  /// Whether `:path` is exactly `path`, compared as bytes (no String made).
  func pathEquals(_ path: String) -> Bool {
    self.pathIndex.map { self.headers.valueEquals(at: $0, path) } ?? path.isEmpty
  }

  /// The request's custom metadata (reserved gRPC and HTTP/2 headers removed; `-bin` values
  /// still base64-encoded, as on the wire): the previous request's array itself when this one
  /// repeats it, which makes no Strings and no array.
  var metadata: [(name: String, value: String)] {
    guard self.metadataCount > 0 else { return [] }
    if self.repeatsPreviousMetadata { return self.previousMetadata }
    var metadata: [(name: String, value: String)] = []
    metadata.reserveCapacity(self.metadataCount)
    self.headers.forEachRawField { name, value in
      guard !GRPCMetadata.isReservedHeader(utf8: name) else { return }
      metadata.append(
        (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
    }
    return metadata
  }

  /// A request that is not gRPC at all gets a plain HTTP answer (with a gRPC status for clients
  /// that look only at that), before any method is resolved or counted.
  var httpRejection: [NGHTTP2HeaderField]? {
    // A block cut short may lack the fields checked here; it is refused as a gRPC call below.
    guard !self.exceedsSizeLimit else { return nil }
    guard let methodIndex = self.methodIndex, self.headers.valueEquals(at: methodIndex, "POST")
    else {
      return Self.rejection(
        status: "405", message: "HTTP method \(self.method) not allowed: gRPC requires POST")
    }
    guard let contentTypeIndex = self.contentTypeIndex,
      // Nearly every client sends exactly this: one byte comparison instead of a parse.
      self.headers.valueEquals(at: contentTypeIndex, GRPCContentType.responseHeaderValue)
        || GRPCContentType(headerValue: self.headers.value(at: contentTypeIndex)) != nil
    else {
      let contentType = self.contentTypeIndex.map { self.headers.value(at: $0) } ?? ""
      return Self.rejection(
        status: "415",
        message: "invalid gRPC request content-type \"\(contentType)\"; expected application/grpc")
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
    if let index = self.malformedBinaryIndex {
      return GRPCStatus(
        code: .internalError,
        message: "malformed binary metadata \(self.headers.name(at: index)): a -bin value must be"
          + " base64")
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
