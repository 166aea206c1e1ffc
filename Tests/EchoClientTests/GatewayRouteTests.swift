import NIOHTTP1
import Testing

@testable import EchoClientCore

@Suite("Gateway routing and limits")
struct GatewayRouteTests {
  let limits = GatewayRoute.Limits(maxMessageBytes: 10, maxURILength: 100)

  func route(
    _ uri: String, method: HTTPMethod = .GET, accept: String? = nil, body: String? = nil
  ) -> GatewayRoute {
    GatewayRoute(
      method: method, uri: uri, accept: accept, body: body.map { Array($0.utf8) },
      limits: self.limits)
  }

  @Test("GET /echo reads m, decoded; a missing m is an empty message")
  func echo() {
    #expect(self.route("/echo?m=hello") == .echo(message: "hello", json: false))
    #expect(self.route("/echo?x=1&m=a+b%21") == .echo(message: "a b!", json: false))
    #expect(self.route("/echo") == .echo(message: "", json: false))
    #expect(self.route("/echo?m=%C3%A9") == .echo(message: "é", json: false))
    // The first m wins; a bare m is empty; empty pairs and a ? inside the query are data.
    #expect(self.route("/echo?m=one&m=two") == .echo(message: "one", json: false))
    #expect(self.route("/echo?x=1&m") == .echo(message: "", json: false))
    #expect(self.route("/echo?&&m=z&") == .echo(message: "z", json: false))
    #expect(self.route("/echo?m=a?b=c") == .echo(message: "a?b=c", json: false))
    #expect(self.route("/echo?mm=1&%6D=decoded") == .echo(message: "decoded", json: false))
    #expect(self.route("/echo?x=é&m=ü") == .echo(message: "ü", json: false))
  }

  @Test(
    "a query that is not percent-encoded UTF-8 is 400 naming the component",
    arguments: [
      ("/echo?m=%zz", "\"%zz\" has a % that is not followed by two hex digits"),
      ("/echo?m=ab%4", "\"ab%4\" has a %"), ("/echo?m=%", "\"%\" has a %"),
      ("/echo?m=a%e9b", "\"a%e9b\" does not decode to UTF-8"),
      ("/echo?m=%C3", "\"%C3\" does not decode to UTF-8"),
      ("/echo?%ff=1&m=x", "\"%ff\" does not decode to UTF-8"),
    ])
  func malformedQuery(target: String, reason: String) {
    guard case .refused(.badRequest, let message) = self.route(target) else {
      Issue.record("expected 400 for \(target)")
      return
    }
    #expect(message.hasPrefix("the query is not valid percent-encoded UTF-8: "))
    #expect(message.contains(reason), "\(message)")
  }

  @Test("Accept: application/json and POST with a JSON body answer JSON")
  func json() {
    #expect(
      self.route("/echo?m=a", accept: "application/json") == .echo(message: "a", json: true))
    #expect(
      self.route("/echo", method: .POST, body: #"{"message":"hi"}"#)
        == .echo(message: "hi", json: true))
    guard case .refused(.badRequest, _) = self.route("/echo", method: .POST, body: "nope") else {
      Issue.record("a body that is not JSON is 400")
      return
    }
  }

  @Test("over-long input: a message over the limit is 413, a target over the limit 414")
  func overLong() {
    guard
      case .refused(.payloadTooLarge, _) = self.route(
        "/echo?m=" + String(repeating: "a", count: 11))
    else {
      Issue.record("expected 413")
      return
    }
    #expect(
      self.route("/echo?m=" + String(repeating: "a", count: 10))
        == .echo(message: String(repeating: "a", count: 10), json: false))
    guard
      case .refused(.uriTooLong, _) = self.route("/echo?m=" + String(repeating: "%41", count: 40))
    else {
      Issue.record("expected 414")
      return
    }
  }

  @Test("other paths: the fixed routes, 405 for a wrong method, 404 naming what is served")
  func others() {
    #expect(self.route("/") == .page)
    #expect(self.route("/metrics?x") == .metrics)
    #expect(self.route("/healthz") == .healthz)
    #expect(self.route("/readyz") == .readyz)
    #expect(self.route("/stats") == .stats)
    guard case .refused(.methodNotAllowed, _) = self.route("/echo", method: .DELETE),
      case .refused(.notFound, let reason) = self.route("/nope")
    else {
      Issue.record("expected 405 and 404")
      return
    }
    #expect(reason.contains("/echo"))
  }
}
