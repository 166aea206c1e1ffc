import GRPCWire
import Testing

@Suite struct GRPCMethodPathTests {
  @Test(arguments: [
    ("/package.Service/Method", "package.Service", "Method"),
    ("/grpc.health.v1.Health/Check", "grpc.health.v1.Health", "Check"),
    ("/Service/Method", "Service", "Method"),
  ])
  func parsesServiceAndMethod(path: String, service: String, method: String) throws {
    let parsed = try #require(GRPCMethodPath(path))
    #expect(parsed.service == service)
    #expect(parsed.method == method)
    #expect(parsed.description == path)
  }

  @Test(arguments: [
    "", "/", "//", "package.Service/Method", "/package.Service", "/package.Service/",
    "//Method", "/a/b/c", "/a/b/", "/a/b?x=1", "/a b/c", "/a/\u{7F}", "/a/é", "*",
  ])
  func rejectsMalformedPaths(path: String) {
    #expect(GRPCMethodPath(path) == nil)
  }
}
