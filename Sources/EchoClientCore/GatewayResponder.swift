import GRPCClientChannel
import GRPCPrometheus
import GRPCWire
import HTTP1Serving
import NIOCore
import NIOHTTP1
import ProtoDeclarations
import ProtoMessages
import SwiftProtobuf

/// Answers routed requests: the echo call through the gRPC channel, readiness through the
/// server's health check, everything else from state the gateway already has.
final class GatewayResponder: Sendable {
  /// An answer now, or one that waits for a gRPC call (cancelled if the HTTP client leaves).
  enum Answer {
    case now(HTTP1Response)
    case later(GRPCCallCancellation)
  }

  /// The service the gateway forwards to; all its methods are registered with the channel, so
  /// their series exist from the start.
  static let echoService = "proto.EchoService"

  private let channel: GRPCChannel
  private let echo: GRPCClientMethod
  private let health: GRPCClientMethod
  private let exposition: MetricsExposition
  private let traffic: TrafficStats
  private let page: ByteBuffer

  init(
    channel: GRPCChannel,
    declared: DeclaredMethods,
    exposition: MetricsExposition,
    traffic: TrafficStats,
    configuration: EchoGatewayConfiguration
  ) throws(DeclaredMethodsError) {
    self.channel = channel
    for method in declared.methods(of: Self.echoService) { _ = channel.method(method) }
    self.echo = channel.method(try declared.method("EchoService", of: Self.echoService))
    self.health = channel.method(try declared.method("Check", of: "grpc.health.v1.Health"))
    self.exposition = exposition
    self.traffic = traffic
    self.page = ByteBuffer(
      string: GatewayPage.html(
        prometheusURL: configuration.prometheusURL, grafanaURL: configuration.grafanaURL))
  }

  /// Answers `route` now, or later: then `later` gets the answer once, on `eventLoop` (the
  /// connection's, which this is called on).
  func respond(
    to route: GatewayRoute, head: HTTPRequestHead, on eventLoop: any EventLoop,
    later: @escaping (HTTP1Response) -> Void
  ) -> Answer {
    switch route {
    case .echo(let message, let json):
      return self.echo(message, json: json, on: eventLoop, later: later)
    case .page:
      return .now(
        HTTP1Response(
          status: .ok, contentType: "text/html; charset=utf-8",
          headers: [("Cache-Control", "no-cache")], body: self.page))
    case .metrics:
      let (contentType, body) = self.exposition.render(accept: head.headers.first(name: "accept"))
      return .now(
        HTTP1Response(status: .ok, contentType: contentType, body: ByteBuffer(bytes: body)))
    case .healthz:
      return .now(.text(.ok, "ok\n"))
    case .readyz:
      return self.ready(on: eventLoop, later: later)
    case .stats:
      return .now(EchoResponse.json(.ok, self.traffic.summary()))
    case .refused(let status, let reason):
      var response = HTTP1Response.text(
        status, "\(status.code) \(status.reasonPhrase): \(reason)\n")
      if status == .methodNotAllowed {
        let path = RequestTarget(head.uri).path
        response.headers.append(("Allow", GatewayRoute.allowedMethods(on: path)))
      }
      return .now(response)
    }
  }

  private func echo(
    _ message: String, json: Bool, on eventLoop: any EventLoop,
    later: @escaping (HTTP1Response) -> Void
  ) -> Answer {
    var request = Proto_Message()
    request.message = message
    let traffic = self.traffic
    let call = self.channel.unary(
      self.echo, request: Self.serialize(request), on: eventLoop
    ) { result in
      var status = result.status
      var reply: String?
      if status.code == .ok, let bytes = result.message {
        do {
          reply = try Proto_Message(serializedBytes: Array(bytes.readableBytesView)).message
        } catch {
          status = GRPCStatus(code: .internalError, message: "undecodable reply: \(error)")
        }
      }
      traffic.record(latency: result.elapsed, failed: status.code != .ok)
      later(
        EchoResponse.render(
          reply: reply, status: status, isServerStatus: result.isServerStatus,
          elapsed: result.elapsed, peer: result.peer, json: json))
    }
    return .later(call)
  }

  private func ready(
    on eventLoop: any EventLoop, later: @escaping (HTTP1Response) -> Void
  ) -> Answer {
    let call = self.channel.unary(
      self.health, request: Self.serialize(Grpc_Health_V1_HealthCheckRequest()),
      deadline: .seconds(2), on: eventLoop
    ) { result in
      later(Self.readiness(result))
    }
    return .later(call)
  }

  /// What the server's health check says about readiness.
  private static func readiness(_ result: GRPCUnaryResult) -> HTTP1Response {
    guard result.status.code == .ok, let bytes = result.message,
      let answer = try? Grpc_Health_V1_HealthCheckResponse(
        serializedBytes: Array(bytes.readableBytesView))
    else {
      return .text(
        .serviceUnavailable, "not ready: the server's health check failed: \(result.status)\n")
    }
    guard answer.status == .serving else {
      return .text(.serviceUnavailable, "not ready: the server reports \(answer.status)\n")
    }
    return .text(.ok, "ready\n")
  }

  private static func serialize(_ message: some SwiftProtobuf.Message) -> ByteBuffer {
    // Messages built here always serialize; a failure would be a bug in swift-protobuf.
    let bytes: [UInt8] = (try? message.serializedBytes()) ?? []
    return ByteBuffer(bytes: bytes)
  }
}
