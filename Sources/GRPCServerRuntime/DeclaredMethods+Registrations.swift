import GRPCPrometheus
import ProtoDeclarations

extension DeclaredMethods {
  /// Checks registrations: every definition names a declared method, with its declared type and
  /// (when its handler is typed) message types, and every declared method of a service it
  /// serves has exactly one definition.
  public func check(_ definitions: [RPCMethodDefinition]) throws(DeclaredMethodsError) {
    var served: Set<GRPCMethod> = []
    for definition in definitions {
      let method = definition.method
      let name = "\(method.service)/\(method.method)"
      guard let declared = self.declaration(of: method.method, in: method.service) else {
        throw self.undeclared(service: method.service, method: method.method)
      }
      guard declared.method.type == method.type else {
        throw DeclaredMethodsError(
          "\(name) is registered as \(method.type.rawValue) but declared \(declared.method.type.rawValue)"
        )
      }
      if let types = definition.messageTypes {
        guard types.request == declared.request,
          types.response ?? declared.response == declared.response
        else {
          throw DeclaredMethodsError(
            "\(name) is registered with \(types.request) -> \(types.response ?? "?") but declared"
              + " \(declared.request) -> \(declared.response)")
        }
      }
      guard served.insert(method).inserted else {
        throw DeclaredMethodsError("\(name) is registered twice")
      }
    }
    for service in Set(served.map(\.service)) {
      for method in self.methods(of: service) where !served.contains(method) {
        throw DeclaredMethodsError(
          "\(service)/\(method.method) is declared but has no handler")
      }
    }
  }
}
