import ArgumentParser
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCPrometheus
import GRPCPrometheusInterceptors
import Prometheus
import ProtoStubs

/// grpc-swift-2's own server on its HTTP/2 transport, serving `proto.EchoService` as EchoServer
/// does: the bench peer that says what the stock Swift gRPC stack costs on the same requests.
///
/// Everything is grpc-swift-2's default, as a user would write it: the transport runs on NIO's
/// singleton event-loop group, which has one thread per core (`System.coreCount`, or
/// `NIO_SINGLETON_GROUP_LOOP_COUNT`), and the handlers on Swift concurrency's global executor,
/// also one thread per core.
@main
struct EchoPeerCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "GRPCSwiftEchoPeer",
    abstract: "grpc-swift-2 echo server (bench peer of EchoServer).")

  @Option(help: "Address to listen on.")
  var host = "127.0.0.1"

  @Option(help: "Port to listen on (0 picks a free one).")
  var port = 8080

  @Flag(help: "Install ServerMetricsInterceptor, recording into a Prometheus registry.")
  var metrics = false

  func run() async throws {
    var interceptors: [any ServerInterceptor] = []
    if self.metrics {
      // Nothing scrapes the registry: the bench measures the cost of recording, as EchoServer
      // records every RPC whether or not /metrics is read.
      let interceptor = ServerMetricsInterceptor(
        metrics: ServerMetrics(registry: PrometheusCollectorRegistry()))
      interceptor.register(Proto_EchoService.Method.descriptors)
      interceptors.append(interceptor)
    }
    let transport = HTTP2ServerTransport.Posix(
      address: .ipv4(host: self.host, port: self.port),
      transportSecurity: .plaintext)
    let server = GRPCServer(
      transport: transport, services: [EchoPeerService()], interceptors: interceptors)
    try await withThrowingDiscardingTaskGroup { group in
      group.addTask { try await server.serve() }
      let address = try await transport.listeningAddress
      print("GRPCSwiftEchoPeer listening on \(address)\(self.metrics ? " with metrics" : "")")
    }
  }
}
