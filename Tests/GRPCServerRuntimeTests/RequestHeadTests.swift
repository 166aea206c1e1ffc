import GRPCPrometheus
import GRPCWire
import NGHTTP2
import NIOCore
import Prometheus
import Testing

@testable import GRPCServerRuntime

/// Reading a request's header block: HTTP-level rejections, metadata, gRPC-level rejections and
/// the choice of response encoding.
@Suite("RequestHead")
struct RequestHeadTests {
  static let path = "/proto.EchoService/EchoService"

  static func head(
    method: String = "POST",
    contentType: String? = "application/grpc",
    _ extra: [(String, String)] = [],
    previousMetadata: [(name: String, value: String)] = []
  ) -> RequestHead {
    var fields: [NGHTTP2HeaderField] = [
      (":method", method), (":scheme", "http"), (":path", Self.path),
      (":authority", "127.0.0.1"),
    ]
    if let contentType { fields.append(("content-type", contentType)) }
    fields.append(("te", "trailers"))
    fields += extra.map { (name: $0.0, value: $0.1) }
    return RequestHead(
      NGHTTP2HeaderBlock(kind: .request, fields: fields), previousMetadata: previousMetadata)
  }

  /// A router serving one unary method, for routes with and without a handler.
  static let router = RPCRouter(
    methods: [
      RPCMethodDefinition(
        method: GRPCMethod(service: "proto.EchoService", method: "EchoService", type: .unary),
        handler: .unary { payload, call in call.send(payload) })
    ],
    interceptors: [ServerMetrics(registry: PrometheusCollectorRegistry())])

  static func status(_ headers: [(String, String)]?) -> String? {
    headers?.first { $0.0 == ":status" }?.1
  }

  @Test("a well-formed gRPC request is not rejected and its fields are read")
  func wellFormed() {
    let head = Self.head([("grpc-timeout", "1S"), ("grpc-encoding", "gzip")])
    #expect(head.httpRejection == nil)
    #expect(head.path == Self.path)
    #expect(head.method == "POST")
    #expect(head.timeout == GRPCTimeout(.seconds(1)))
    #expect(head.encoding == .gzip)
    #expect(head.grpcRejection(for: Self.router.route(Self.path), enabled: .all) == nil)
  }

  @Test("GET is refused with HTTP 405", arguments: ["GET", "PUT", "HEAD"])
  func notPost(method: String) {
    let rejection = Self.head(method: method).httpRejection
    #expect(Self.status(rejection) == "405")
    #expect(rejection?.contains { $0.0 == "grpc-status" } == true)
    let message = rejection?.first { $0.0 == "grpc-message" }?.1
    #expect(message.map { GRPCStatus.percentDecode($0) }?.contains(method) == true)
  }

  @Test(
    "a content-type that is not gRPC is refused with HTTP 415",
    arguments: [
      "text/html", "application/json", "application/grpc+json", nil,
    ] as [String?])
  func unsupportedMediaType(contentType: String?) {
    #expect(Self.status(Self.head(contentType: contentType).httpRejection) == "415")
  }

  @Test(
    "gRPC content types with parameters or +proto are accepted",
    arguments: [
      "application/grpc", "application/grpc+proto", "application/grpc; charset=utf-8",
      "Application/GRPC",
    ])
  func grpcContentTypes(contentType: String) {
    #expect(Self.head(contentType: contentType).httpRejection == nil)
  }

  @Test("metadata keeps custom headers in order and drops reserved ones")
  func metadata() {
    let head = Self.head([
      ("user-agent", "grpc-swift"), ("x-custom", "1"), ("grpc-timeout", "5m"),
      ("grpc-encoding", "identity"), ("grpc-accept-encoding", "gzip"), ("x-trace-bin", "AAE"),
      ("x-custom", "2"), ("grpc-status-details-bin", "AA"),
    ])
    #expect(head.metadata.map(\.name) == ["user-agent", "x-custom", "x-trace-bin", "x-custom"])
    #expect(head.metadata.map(\.value) == ["grpc-swift", "1", "AAE", "2"])
  }

  @Test("repeated metadata is handed over as the previous array; changed metadata is built anew")
  func metadataReuse() {
    let first = Self.head([("user-agent", "grpc-swift"), ("x-tenant", "a")]).metadata
    let again = Self.head(
      [("user-agent", "grpc-swift"), ("x-tenant", "a")], previousMetadata: first
    ).metadata
    #expect(again.map(\.value) == ["grpc-swift", "a"])
    #expect(Self.storage(of: again) == Self.storage(of: first), "the same array, not a copy")
    for changed in [
      [("user-agent", "grpc-swift"), ("x-tenant", "b")],
      [("user-agent", "grpc-swift")],
      [("user-agent", "grpc-swift"), ("x-tenant", "a"), ("x-more", "1")],
      [("user-agent", "grpc-swift"), ("x-other", "a")],
    ] {
      let metadata = Self.head(changed, previousMetadata: first).metadata
      #expect(metadata.map(\.name) == changed.map(\.0))
      #expect(metadata.map(\.value) == changed.map(\.1))
    }
    #expect(Self.head(previousMetadata: first).metadata.isEmpty)
  }

  @Test("the path is compared as bytes against a cached one")
  func pathComparison() {
    let head = Self.head()
    #expect(head.pathEquals(Self.path))
    #expect(!head.pathEquals(Self.path + "2"))
    #expect(!head.pathEquals("/proto.EchoService/EchoServicx"))
    #expect(!head.pathEquals(""))
  }

  static func storage(of array: [(name: String, value: String)]) -> UnsafeRawPointer? {
    array.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
  }

  @Test("headers over the size limit are RESOURCE_EXHAUSTED, not an HTTP rejection")
  func oversizedHeaders() throws {
    var block = NGHTTP2HeaderBlock(kind: .request, fields: [(":path", Self.path)])
    block.exceedsSizeLimit = true  // :method and content-type were cut off with the rest.
    let head = RequestHead(block)
    #expect(head.httpRejection == nil)
    let status = try #require(head.grpcRejection(for: Self.router.route(Self.path), enabled: .all))
    #expect(status.code == .resourceExhausted)
    #expect(status.message.contains("SETTINGS_MAX_HEADER_LIST_SIZE"))
  }

  @Test(
    "a malformed grpc-timeout is INVALID_ARGUMENT",
    arguments: [
      "abc", "1", "S", "-1S", "123456789S", "1s",
    ])
  func badTimeout(value: String) throws {
    let head = Self.head([("grpc-timeout", value)])
    #expect(head.timeout == nil)
    let status = try #require(head.grpcRejection(for: Self.router.route(Self.path), enabled: .all))
    #expect(status.code == .invalidArgument)
    #expect(status.message.contains(value))
  }

  @Test("an unsupported grpc-encoding is UNIMPLEMENTED and names the supported ones")
  func unsupportedEncoding() throws {
    let route = Self.router.route(Self.path)
    let snappy = try #require(
      Self.head([("grpc-encoding", "snappy")]).grpcRejection(for: route, enabled: .all))
    #expect(snappy.code == .unimplemented)
    #expect(snappy.message.contains("snappy"))
    #expect(snappy.message.contains("identity,deflate,gzip"))

    // Known to the implementation but not enabled by this server.
    let gzip = try #require(
      Self.head([("grpc-encoding", "gzip")]).grpcRejection(for: route, enabled: .identity))
    #expect(gzip.code == .unimplemented)
    #expect(gzip.message.contains("supported: identity"))
  }

  @Test(
    "a -bin value that is not base64 is INTERNAL naming the header; valid ones pass",
    arguments: ["!!not base64!!", "A", "AAE=AAE="])
  func malformedBinaryMetadata(value: String) throws {
    let route = Self.router.route(Self.path)
    #expect(
      Self.head([("x-trace-bin", "AAEC"), ("x-trace-bin", "AAE=")]).grpcRejection(
        for: route, enabled: .all) == nil)
    let status = try #require(
      Self.head([("x-ok", value), ("x-trace-bin", value)]).grpcRejection(for: route, enabled: .all))
    #expect(status.code == .internalError)
    #expect(status.message == "malformed binary metadata x-trace-bin: a -bin value must be base64")
  }

  @Test("an unknown method is UNIMPLEMENTED before anything else is checked")
  func unknownMethod() throws {
    let head = Self.head([("grpc-timeout", "garbage")])
    let status = try #require(head.grpcRejection(for: Self.router.route("/no/Such"), enabled: .all))
    #expect(status.code == .unimplemented)
  }

  @Test(
    "the response encoding mirrors the request's when the client accepts it and it is enabled",
    arguments: [
      // (grpc-encoding, grpc-accept-encoding, enabled, expected)
      ("gzip", "gzip", GRPCMessageEncodingSet.all, GRPCMessageEncoding.gzip),
      ("gzip", "identity,deflate,gzip", .all, .gzip),
      ("deflate", "identity, deflate", .all, .deflate),
      ("gzip", nil, .all, .identity),
      ("gzip", "deflate", .all, .identity),
      ("gzip", "gzip", [.identity, .deflate], .identity),
      (nil, "gzip", .all, .identity),
      ("identity", "gzip", .all, .identity),
    ] as [(String?, String?, GRPCMessageEncodingSet, GRPCMessageEncoding)])
  func responseEncoding(
    encoding: String?, accept: String?, enabled: GRPCMessageEncodingSet,
    expected: GRPCMessageEncoding
  ) {
    var extra: [(String, String)] = []
    if let encoding { extra.append(("grpc-encoding", encoding)) }
    if let accept { extra.append(("grpc-accept-encoding", accept)) }
    #expect(Self.head(extra).responseEncoding(enabled: enabled) == expected)
  }
}
