import GRPCPrometheus
import SwiftProtobuf

/// The RPC methods a set of proto files declares: what a server checks its registrations
/// against, and where a client takes method names and types from, so neither can disagree with
/// the protos.
public struct DeclaredMethods: Sendable {
  private struct Declaration: Sendable {
    var method: GRPCMethod
    var request: String
    var response: String
  }

  private let declarations: [Declaration]

  /// The methods of every service in `fileDescriptorSet` (as `protoc --descriptor_set_out`
  /// writes it), in declaration order.
  public init(_ fileDescriptorSet: Google_Protobuf_FileDescriptorSet) {
    var declarations: [Declaration] = []
    for file in fileDescriptorSet.file {
      let prefix = file.package.isEmpty ? "" : file.package + "."
      for service in file.service {
        for method in service.method {
          declarations.append(
            Declaration(
              method: GRPCMethod(
                service: prefix + service.name, method: method.name,
                type: GRPCType(
                  clientStreaming: method.clientStreaming, serverStreaming: method.serverStreaming)),
              request: Self.messageName(method.inputType),
              response: Self.messageName(method.outputType)))
        }
      }
    }
    self.declarations = declarations
  }

  /// The declared methods of `service`, in declaration order.
  public func methods(of service: String) -> [GRPCMethod] {
    self.declarations.map(\.method).filter { $0.service == service }
  }

  /// The declared method `name` of `service`.
  public func method(
    _ name: String, of service: String
  ) throws(DeclaredMethodsError)
    -> GRPCMethod
  {
    guard
      let found = self.declarations.first(where: {
        $0.method.service == service && $0.method.method == name
      })
    else { throw self.undeclared(service: service, method: name) }
    return found.method
  }

  /// Checks registrations: every definition names a declared method, with its declared type and
  /// (when its handler is typed) message types, and every declared method of a service it
  /// serves has exactly one definition.
  public func check(_ definitions: [RPCMethodDefinition]) throws(DeclaredMethodsError) {
    var served: Set<GRPCMethod> = []
    for definition in definitions {
      let method = definition.method
      let name = "\(method.service)/\(method.method)"
      guard
        let declared = self.declarations.first(where: {
          $0.method.service == method.service && $0.method.method == method.method
        })
      else { throw self.undeclared(service: method.service, method: method.method) }
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

  private func undeclared(service: String, method: String) -> DeclaredMethodsError {
    let known = self.methods(of: service).map(\.method)
    return DeclaredMethodsError(
      known.isEmpty
        ? "no proto declares the service \(service)"
        : "\(service) declares no method \(method); it declares \(known.joined(separator: ", "))")
  }

  /// `.proto.Message` as descriptors spell a fully qualified type, without the leading dot.
  private static func messageName(_ typeName: String) -> String {
    typeName.hasPrefix(".") ? String(typeName.dropFirst()) : typeName
  }
}

/// A registration that does not match the protos; the message says which and how.
public struct DeclaredMethodsError: Error, CustomStringConvertible {
  /// What does not match.
  public let description: String

  init(_ description: String) {
    self.description = description
  }
}

extension GRPCType {
  /// The shape a proto method declaration gives.
  init(clientStreaming: Bool, serverStreaming: Bool) {
    switch (clientStreaming, serverStreaming) {
    case (false, false): self = .unary
    case (true, false): self = .clientStream
    case (false, true): self = .serverStream
    case (true, true): self = .bidiStream
    }
  }
}
