import HTTP1Serving
import NIOHTTP1

/// Answers the HTTP/1.1 requests that arrive on the gRPC port (`/metrics`, `/healthz`, ...).
///
/// The router runs on the connection's event loop, so it must be quick: render from state it
/// already has, never block.
public struct HTTP1Router: Sendable {
  /// One route's answer for a `GET` (and `HEAD`) request.
  public typealias Route = @Sendable (HTTPRequestHead) -> HTTP1Response

  private var routes: [String: Route] = [:]

  /// Creates an empty router; every path answers 404.
  public init() {}

  /// Adds a `GET`/`HEAD` route for an exact path (the query string is ignored when matching).
  public mutating func get(_ path: String, _ route: @escaping Route) {
    self.routes[path] = route
  }

  /// The paths served, for error messages.
  public var paths: [String] { self.routes.keys.sorted() }

  /// The response to a request: the route's answer, or a 404/405 that says what is served.
  public func respond(to head: HTTPRequestHead) -> HTTP1Response {
    let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
    guard let route = self.routes[path] else {
      return .text(
        .notFound,
        "404 not found: \(path)\nThis port serves gRPC over HTTP/2 and GET \(self.pathList).\n"
      )
    }
    guard head.method == .GET || head.method == .HEAD else {
      var response = HTTP1Response.text(
        .methodNotAllowed,
        "405 method not allowed: \(head.method) \(path) (use GET)\n"
      )
      response.headers.append(("Allow", "GET, HEAD"))
      return response
    }
    return route(head)
  }

  private var pathList: String { self.paths.joined(separator: ", ") }
}
