import GRPCPrometheus

/// Maps a request's `:path` to its method, with the method's metric handles resolved once at
/// start-up.
struct RPCRouter: Sendable {
  /// Where a request goes. A class, so a call holds its route with one reference instead of
  /// copying (and retaining) every label string and counter handle.
  final class Route: Sendable {
    let method: GRPCMethod
    let metrics: ServerMethodMetrics
    /// `nil` for an unknown method, which is answered `UNIMPLEMENTED`.
    let handler: RPCMethodDefinition.Handler?

    init(method: GRPCMethod, metrics: ServerMethodMetrics, handler: RPCMethodDefinition.Handler?) {
      self.method = method
      self.metrics = metrics
      self.handler = handler
    }
  }

  /// The metric labels every unknown method shares, so that probing random paths cannot grow the
  /// number of series without bound.
  static let unknownMethod = GRPCMethod(service: "unknown", method: "unknown", type: .unary)

  private let routes: [String: Route]
  private let unknown: Route

  init(methods: [RPCMethodDefinition], metrics: ServerMetrics) {
    var routes: [String: Route] = [:]
    for definition in methods {
      precondition(routes[definition.path] == nil, "\(definition.path) is registered twice")
      routes[definition.path] = Route(
        method: definition.method,
        metrics: metrics.method(definition.method),
        handler: definition.handler)
    }
    self.routes = routes
    self.unknown = Route(
      method: Self.unknownMethod, metrics: metrics.method(Self.unknownMethod), handler: nil)
  }

  func route(_ path: String) -> Route {
    self.routes[path] ?? self.unknown
  }
}
