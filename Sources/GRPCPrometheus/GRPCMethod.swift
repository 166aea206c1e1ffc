/// One RPC method as the metrics label it: `grpc_service`, `grpc_method` and `grpc_type`.
public struct GRPCMethod: Hashable, Sendable {
  /// The fully qualified service name, for example `proto.EchoService`.
  public var service: String
  /// The method name, for example `EchoService`.
  public var method: String
  /// The shape of the RPC.
  public var type: GRPCType

  /// Creates a method description.
  public init(service: String, method: String, type: GRPCType) {
    self.service = service
    self.method = method
    self.type = type
  }
}
