import GRPCPrometheus
import GRPCWire
import ProtoDeclarations
import ProtoMessages
import Testing

@testable import GRPCServerRuntime

/// Registrations held against the protos in `Protos/`.
@Suite("Declared methods")
struct DeclaredMethodsTests {
  static let declared = try! DeclaredMethods(EmbeddedDescriptors.decodedFileDescriptorSet())

  static func echo(_ method: String = "EchoService") -> RPCMethodDefinition {
    .unary(service: "proto.EchoService", method: method) {
      (request: Proto_Message, _) throws(GRPCStatus) in request
    }
  }

  /// Every other `proto.EchoService` method, as declared.
  static let otherEchoMethods: [RPCMethodDefinition] = [
    .serverStreaming(service: "proto.EchoService", method: "ServerStreamingEcho") {
      (_: Proto_StreamingEchoRequest, _) throws(GRPCStatus) in [Proto_Message()]
    },
    .clientStreaming(
      service: "proto.EchoService", method: "ClientStreamingEcho", initial: { "" },
      next: { (_: inout String, _: Proto_Message) throws(GRPCStatus) in },
      finish: { (_, _) throws(GRPCStatus) in Proto_Message() }),
    .bidirectionalStreaming(service: "proto.EchoService", method: "BidirectionalStreamingEcho") {
      (_: Proto_Message, _) throws(GRPCStatus) in
    },
  ]

  @Test("names and types come from the protos")
  func lookups() throws {
    #expect(
      Self.declared.methods(of: "proto.EchoService").map(\.method) == [
        "EchoService", "ServerStreamingEcho", "ClientStreamingEcho", "BidirectionalStreamingEcho",
      ])
    #expect(
      try Self.declared.method("Watch", of: "grpc.health.v1.Health")
        == GRPCMethod(service: "grpc.health.v1.Health", method: "Watch", type: .serverStream))
    #expect(throws: DeclaredMethodsError.self) {
      try Self.declared.method("Chek", of: "grpc.health.v1.Health")
    }
  }

  @Test("a service registered as declared passes")
  func matching() throws {
    try Self.declared.check([Self.echo()] + Self.otherEchoMethods)
  }

  @Test(
    "a mismatch is named",
    arguments: [
      ("EchoServce", "proto.EchoService declares no method EchoServce; it declares EchoService,"),
      ("missing", "proto.EchoService/EchoService is declared but has no handler"),
      ("type", "proto.EchoService/EchoService is registered as server_stream but declared unary"),
      (
        "messages",
        "registered with proto.StreamingEchoRequest -> proto.Message but declared proto.Message -> proto.Message"
      ),
      ("twice", "proto.EchoService/EchoService is registered twice"),
      ("service", "no proto declares the service proto.EchoServic"),
    ])
  func mismatch(kind: String, expected: String) {
    var definitions = Self.otherEchoMethods
    switch kind {
    case "EchoServce": definitions.append(Self.echo("EchoServce"))
    case "missing": break
    case "type":
      definitions.append(
        .serverStreaming(service: "proto.EchoService", method: "EchoService") {
          (_: Proto_Message, _) throws(GRPCStatus) in [Proto_Message()]
        })
    case "messages":
      definitions.append(
        .unary(service: "proto.EchoService", method: "EchoService") {
          (_: Proto_StreamingEchoRequest, _) throws(GRPCStatus) in Proto_Message()
        })
    case "twice": definitions += [Self.echo(), Self.echo()]
    default:
      definitions = [
        .unary(service: "proto.EchoServic", method: "EchoService") {
          (request: Proto_Message, _) throws(GRPCStatus) in request
        }
      ]
    }
    #expect {
      try Self.declared.check(definitions)
    } throws: { error in
      "\(error)".contains(expected)
    }
  }
}
