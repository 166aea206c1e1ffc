import GRPCPrometheus

/// Maps a request's `:path` to its method, with the method's interceptor hooks bound once at
/// start-up.
struct RPCRouter: Sendable {
  /// Where a request goes. A class, so a call holds its route with one reference instead of
  /// copying (and retaining) every label string and hook.
  final class Route: Sendable {
    let method: GRPCMethod
    /// The interceptors' hooks for the method's calls, combined into one.
    let observer: any GRPCServerCallObserver
    /// `nil` for an unknown method, which is answered `UNIMPLEMENTED`.
    let handler: RPCMethodDefinition.Handler?

    init(
      method: GRPCMethod, interceptors: [any GRPCServerInterceptor],
      handler: RPCMethodDefinition.Handler?
    ) {
      self.method = method
      self.observer = GRPCServerCallObservers.combining(interceptors.map { $0.bind(to: method) })
      self.handler = handler
    }
  }

  /// The metric labels every unknown method shares, so that probing random paths cannot grow the
  /// number of series without bound.
  static let unknownMethod = GRPCMethod(service: "unknown", method: "unknown", type: .unary)

  private let routes: [String: Route]
  private let unknown: Route

  init(methods: [RPCMethodDefinition], interceptors: [any GRPCServerInterceptor]) {
    var routes: [String: Route] = [:]
    for definition in methods {
      precondition(routes[definition.path] == nil, "\(definition.path) is registered twice")
      routes[definition.path] = Route(
        method: definition.method, interceptors: interceptors, handler: definition.handler)
    }
    self.routes = routes
    self.unknown = Route(method: Self.unknownMethod, interceptors: interceptors, handler: nil)
  }

  func route(_ path: String) -> Route {
    self.routes[path] ?? self.unknown
  }
}
