import GRPCWire
import Testing

@Suite struct GRPCContentTypeTests {
  @Test(arguments: [
    ("application/grpc", GRPCContentType.grpc),
    ("application/grpc+proto", .grpcProto),
    ("application/grpc; charset=utf-8", .grpc),
    ("application/grpc+proto;charset=utf-8", .grpcProto),
    ("Application/GRPC", .grpc),
    (" application/grpc ", .grpc),
  ])
  func acceptsGRPC(value: String, contentType: GRPCContentType) {
    #expect(GRPCContentType(headerValue: value) == contentType)
  }

  @Test(arguments: [
    "", "application/json", "application/grpc+json", "application/grpc-web",
    "application/grpcx", "application/grpc+", "text/plain", "application/grpc+proto+x",
  ])
  func rejectsTheRest(value: String) {
    #expect(GRPCContentType(headerValue: value) == nil)
  }
}
