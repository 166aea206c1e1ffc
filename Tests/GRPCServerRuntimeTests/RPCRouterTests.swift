import GRPCPrometheus
import GRPCWire
import NIOCore
import Prometheus
import Testing

@testable import GRPCServerRuntime

/// Mapping `:path` to methods, and the one shared series set for paths nobody serves.
@Suite("RPCRouter")
struct RPCRouterTests {
  static let echo = GRPCMethod(service: "proto.EchoService", method: "EchoService", type: .unary)
  static let bidi = GRPCMethod(
    service: "proto.EchoService", method: "BidirectionalStreamingEcho", type: .bidiStream)

  static func makeRouter(_ registry: PrometheusCollectorRegistry) -> RPCRouter {
    RPCRouter(
      methods: [
        RPCMethodDefinition(
          method: Self.echo, handler: .unary { payload, call in call.send(payload) }),
        RPCMethodDefinition(method: Self.bidi, handler: .stream { NoOpStreamHandler() }),
      ],
      interceptors: [ServerMetrics(registry: registry)])
  }

  @Test("a served path routes to its method and handler")
  func known() {
    let router = Self.makeRouter(PrometheusCollectorRegistry())
    let route = router.route("/proto.EchoService/EchoService")
    #expect(route.method == Self.echo)
    #expect(route.handler != nil)
    #expect(router.route("/proto.EchoService/BidirectionalStreamingEcho").method == Self.bidi)
  }

  @Test(
    "unknown paths all share the unknown method and its series",
    arguments: [
      "/proto.EchoService/Nope", "/no.Such/Method", "/", "", "/proto.EchoService/EchoService/",
      "/proto.EchoService/echoservice",
    ])
  func unknown(path: String) {
    let router = Self.makeRouter(PrometheusCollectorRegistry())
    let route = router.route(path)
    #expect(route.method == RPCRouter.unknownMethod)
    #expect(route.method.service == "unknown")
    #expect(route.method.method == "unknown")
    #expect(route.handler == nil)
  }

  @Test("metrics of different unknown paths land in the same series")
  func unknownSharesSeries() throws {
    let registry = PrometheusCollectorRegistry()
    let router = Self.makeRouter(registry)
    for path in ["/a/b", "/c/d"] {
      let metrics = try #require(router.route(path).observer as? ServerMethodMetrics)
      metrics.started()
    }
    let exposition = registry.emitToString()
    let line = exposition.split(separator: "\n").first {
      $0.hasPrefix("grpc_server_started_total{") && $0.contains("grpc_service=\"unknown\"")
    }
    #expect(line?.hasSuffix(" 2") == true)
    #expect(!exposition.contains("grpc_method=\"b\""))
  }
}

/// A stream handler that does nothing; only its presence matters to the router.
private final class NoOpStreamHandler: RPCStreamHandler {
  func receive(_ message: ByteBuffer, on call: ServerCall) throws(GRPCStatus) {}
  func endOfRequests(on call: ServerCall) throws(GRPCStatus) {}
}
