import HTTP1Serving
import NIOCore
import NIOHTTP1
import Testing

@testable import GRPCServerRuntime

/// The HTTP/1.1 side of the shared port, without a socket.
@Suite("HTTP1Router")
struct HTTP1RouterTests {
  let router: HTTP1Router = {
    var router = HTTP1Router()
    router.get("/metrics") { _ in .text(.ok, "metrics body") }
    router.get("/healthz") { _ in .text(.ok, "ok\n") }
    return router
  }()

  func respond(_ method: HTTPMethod, _ uri: String) -> HTTP1Response {
    self.router.respond(to: HTTPRequestHead(version: .http1_1, method: method, uri: uri))
  }

  @Test("a GET on a route gets the route's answer")
  func get() {
    let response = self.respond(.GET, "/metrics")
    #expect(response.status == .ok)
    #expect(String(buffer: response.body) == "metrics body")
    #expect(self.respond(.GET, "/healthz").status == .ok)
  }

  @Test("HEAD is answered by the GET route")
  func head() {
    #expect(self.respond(.HEAD, "/metrics").status == .ok)
  }

  @Test("the query string is ignored when matching", arguments: ["/metrics?x=1", "/metrics?"])
  func queryIgnored(uri: String) {
    let response = self.respond(.GET, uri)
    #expect(response.status == .ok)
    #expect(String(buffer: response.body) == "metrics body")
  }

  @Test("an unknown path is 404 and the body lists the served paths")
  func notFound() {
    let response = self.respond(.GET, "/x?y=z")
    #expect(response.status == .notFound)
    #expect(response.contentType == "text/plain; charset=utf-8")
    let body = String(buffer: response.body)
    #expect(body.contains("/x"))
    #expect(!body.contains("y=z"))
    #expect(body.contains("/healthz, /metrics"))
    #expect(self.router.paths == ["/healthz", "/metrics"])
  }

  @Test("a path is matched exactly", arguments: ["/metrics/", "/Metrics", "metrics", ""])
  func exactMatch(uri: String) {
    #expect(self.respond(.GET, uri).status == .notFound)
  }

  @Test(
    "POST, PUT and DELETE on a route are 405 with Allow",
    arguments: [
      HTTPMethod.POST, .PUT, .DELETE,
    ])
  func methodNotAllowed(method: HTTPMethod) {
    let response = self.respond(method, "/metrics")
    #expect(response.status == .methodNotAllowed)
    #expect(response.headers.contains { $0.0 == "Allow" && $0.1 == "GET, HEAD" })
    #expect(String(buffer: response.body).contains("use GET"))
  }

  @Test("an empty router answers 404 to everything")
  func empty() {
    let response = HTTP1Router().respond(
      to: HTTPRequestHead(version: .http1_1, method: .GET, uri: "/metrics"))
    #expect(response.status == .notFound)
  }
}
