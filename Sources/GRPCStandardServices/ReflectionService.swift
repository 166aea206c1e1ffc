import GRPCServerRuntime
import GRPCWire
import ProtoMessages

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `grpc.reflection.v1.ServerReflection` and its `v1alpha` twin, so grpcurl, Postman and grpcio's
/// reflection client work without the proto files.
///
/// Both versions have the same messages on the wire, so one implementation on the v1 types
/// serves both.
public enum ReflectionService {
  /// The fully qualified names of both versions of the service.
  public static let serviceNames = [
    "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection",
  ]

  /// The method definitions for both versions, listing `services` (the reflection services are
  /// added to the list) and answering from the descriptors embedded from `Protos/`.
  public static func methods(services: [String]) throws -> [RPCMethodDefinition] {
    let index = try ReflectionIndex(fileDescriptorSet: EmbeddedDescriptors.fileDescriptorSet)
    let listed = (services + Self.serviceNames).sorted()
    return Self.serviceNames.map { service in
      let definition = RPCMethodDefinition.bidirectionalStreaming(
        service: service, method: "ServerReflectionInfo"
      ) { (request: Grpc_Reflection_V1_ServerReflectionRequest, call) throws(GRPCStatus) in
        call.send(Self.answer(request, index: index, services: listed))
      }
      // The v1 types serve v1alpha too; each version's definition names its own messages.
      let package = service.dropLast(".ServerReflection".count)
      return RPCMethodDefinition(
        method: definition.method, handler: definition.handler,
        messageTypes: ("\(package).ServerReflectionRequest", "\(package).ServerReflectionResponse"))
    }
  }

  static func answer(
    _ request: Grpc_Reflection_V1_ServerReflectionRequest,
    index: ReflectionIndex,
    services: [String]
  ) -> Grpc_Reflection_V1_ServerReflectionResponse {
    var response = Grpc_Reflection_V1_ServerReflectionResponse()
    response.validHost = request.host
    response.originalRequest = request
    func files(_ found: [Data]?, notFound message: String) {
      if let found {
        response.fileDescriptorResponse.fileDescriptorProto = found
      } else {
        response.errorResponse = Self.notFound(message)
      }
    }
    switch request.messageRequest {
    case .listServices:
      response.listServicesResponse.service = services.map { name in .with { $0.name = name } }
    case .fileByFilename(let name):
      files(index.file(named: name), notFound: "unknown file \"\(name)\"")
    case .fileContainingSymbol(let symbol):
      files(index.fileContaining(symbol: symbol), notFound: "unknown symbol \"\(symbol)\"")
    case .fileContainingExtension(let request):
      response.errorResponse = Self.notFound(
        "no extension \(request.extensionNumber) of \"\(request.containingType)\":"
          + " these protos declare no extensions")
    case .allExtensionNumbersOfType(let type):
      if index.contains(symbol: type) {
        response.allExtensionNumbersResponse.baseTypeName = type
      } else {
        response.errorResponse = Self.notFound("unknown type \"\(type)\"")
      }
    case nil:
      response.errorResponse = .with {
        $0.errorCode = Int32(GRPCStatus.Code.invalidArgument.rawValue)
        $0.errorMessage = "the request names no reflection query"
      }
    }
    return response
  }

  private static func notFound(_ message: String) -> Grpc_Reflection_V1_ErrorResponse {
    .with {
      $0.errorCode = Int32(GRPCStatus.Code.notFound.rawValue)
      $0.errorMessage = message
    }
  }
}
