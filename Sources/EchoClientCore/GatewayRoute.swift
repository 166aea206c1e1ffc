import NIOHTTP1

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a request to the gateway asks for, decided from its method, target, `Accept` header and
/// body, before anything is sent to the gRPC server: a pure function, so routing and input limits
/// are tested without sockets.
public enum GatewayRoute: Equatable, Sendable {
  /// Forward `message` to `EchoService`; answer JSON or the original's plain text.
  case echo(message: String, json: Bool)
  /// The page.
  case page
  /// The Prometheus scrape.
  case metrics
  /// Liveness.
  case healthz
  /// Readiness: the server's health check.
  case readyz
  /// The page's live numbers, as JSON.
  case stats
  /// Refused before any gRPC call, with this status and explanation.
  case refused(HTTPResponseStatus, String)

  /// The limits requests are checked against.
  public struct Limits: Sendable {
    /// The longest message forwarded, in UTF-8 bytes (413 above).
    public var maxMessageBytes: Int
    /// The longest request target (414 above).
    public var maxURILength: Int

    /// Creates limits.
    public init(maxMessageBytes: Int, maxURILength: Int) {
      self.maxMessageBytes = maxMessageBytes
      self.maxURILength = maxURILength
    }

    /// The largest request body worth reading: a JSON-escaped message of the longest length.
    public var maxBodyBytes: Int { self.maxMessageBytes * 6 + 1024 }
  }

  /// The paths served, which are also the `route` label values of the HTTP metrics.
  public static let paths = ["/", "/echo", "/metrics", "/healthz", "/readyz", "/stats"]

  /// The methods a served path takes, as a 405's `Allow` header lists them.
  static func allowedMethods(on path: Substring) -> String {
    path == "/echo" ? "GET, HEAD, POST" : "GET, HEAD"
  }

  /// Routes a complete request. `body` is nil when the request had none.
  public init(
    method: HTTPMethod, uri: String, accept: String?, body: [UInt8]?, limits: Limits
  ) {
    guard uri.utf8.count <= limits.maxURILength else {
      self = .refused(
        .uriTooLong,
        "the request target is \(uri.utf8.count) bytes, the limit is \(limits.maxURILength);"
          + " send long messages with POST /echo")
      return
    }
    let target = RequestTarget(uri)
    let path = String(target.path)
    let wantsJSON = accept?.contains("application/json") ?? false
    switch (method, path) {
    case (.GET, "/echo"), (.HEAD, "/echo"):
      do throws(QueryString.Malformed) {
        let message = try QueryString.value(of: "m", in: target.query) ?? ""
        self = Self.echo(message, json: wantsJSON, limits: limits)
      } catch {
        self = .refused(.badRequest, "the query is not valid percent-encoded UTF-8: \(error)")
      }
    case (.POST, "/echo"):
      guard let body,
        let request = try? JSONDecoder().decode(EchoJSONRequest.self, from: Data(body))
      else {
        self = .refused(
          .badRequest, #"POST /echo needs a JSON body like {"message": "hello"}"#)
        return
      }
      self = Self.echo(request.message, json: true, limits: limits)
    case (.GET, "/"), (.HEAD, "/"): self = .page
    case (.GET, "/metrics"), (.HEAD, "/metrics"): self = .metrics
    case (.GET, "/healthz"), (.HEAD, "/healthz"): self = .healthz
    case (.GET, "/readyz"), (.HEAD, "/readyz"): self = .readyz
    case (.GET, "/stats"), (.HEAD, "/stats"): self = .stats
    case (_, let path) where Self.paths.contains(path):
      self = .refused(
        .methodNotAllowed,
        "\(method) is not allowed on \(path); use GET\(path == "/echo" ? " or POST" : "")")
    default:
      self = .refused(
        .notFound, "not found: \(path); served: \(Self.paths.joined(separator: ", "))")
    }
  }

  private static func echo(_ message: String, json: Bool, limits: Limits) -> GatewayRoute {
    guard message.utf8.count <= limits.maxMessageBytes else {
      return .refused(
        .payloadTooLarge,
        "the message is \(message.utf8.count) bytes, the limit is \(limits.maxMessageBytes)")
    }
    return .echo(message: message, json: json)
  }
}
