import GRPCPrometheus
import SwiftProtobuf

/// The RPC methods a set of proto files declares: what a server checks its registrations
/// against (`GRPCServerRuntime` adds the check), and where a client takes method names and types
/// from, so neither can disagree with the protos.
public struct DeclaredMethods: Sendable {
  /// One method as a proto declares it.
  public struct Declaration: Sendable {
    /// Service, name and streaming type.
    public var method: GRPCMethod
    /// The fully qualified request message (`proto.Message`).
    public var request: String
    /// The fully qualified response message.
    public var response: String
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

  /// The declaration of method `name` of `service`, if there is one.
  public func declaration(of name: String, in service: String) -> Declaration? {
    self.declarations.first { $0.method.service == service && $0.method.method == name }
  }

  /// The declared method `name` of `service`.
  public func method(
    _ name: String, of service: String
  ) throws(DeclaredMethodsError)
    -> GRPCMethod
  {
    guard let found = self.declaration(of: name, in: service) else {
      throw self.undeclared(service: service, method: name)
    }
    return found.method
  }

  /// The error for a method `service` does not declare, naming those it does.
  public func undeclared(service: String, method: String) -> DeclaredMethodsError {
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

  /// An error that says `description`.
  public init(_ description: String) {
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
