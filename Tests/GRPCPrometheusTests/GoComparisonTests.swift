import GRPCPrometheus
import Prometheus
import Testing

/// The exposition a Go server and client instrumented with go-grpc-prometheus v1.2 (handling
/// histograms enabled) would serve after the workload below, typed out by hand from Go's
/// semantics with this library's documented corrections: client series exist from
/// registration, and the client counts its received unary reply.
private let goExposition = #"""
  # HELP grpc_server_started_total Total number of RPCs started on the server.
  # TYPE grpc_server_started_total counter
  grpc_server_started_total{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 2
  grpc_server_started_total{grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 1
  # HELP grpc_server_msg_received_total Total number of RPC stream messages received on the server.
  # TYPE grpc_server_msg_received_total counter
  grpc_server_msg_received_total{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 2
  grpc_server_msg_received_total{grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 1
  # HELP grpc_server_msg_sent_total Total number of gRPC stream messages sent by the server.
  # TYPE grpc_server_msg_sent_total counter
  grpc_server_msg_sent_total{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 1
  grpc_server_msg_sent_total{grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 3
  # HELP grpc_server_handled_total Total number of RPCs completed on the server, regardless of success or failure.
  # TYPE grpc_server_handled_total counter
  grpc_server_handled_total{grpc_code="Aborted",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_server_handled_total{grpc_code="AlreadyExists",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_server_handled_total{grpc_code="Canceled",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_server_handled_total{grpc_code="DataLoss",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_server_handled_total{grpc_code="DeadlineExceeded",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_server_handled_total{grpc_code="FailedPrecondition",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_server_handled_total{grpc_code="Internal",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_server_handled_total{grpc_code="InvalidArgument",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_server_handled_total{grpc_code="NotFound",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 1
  grpc_server_handled_total{grpc_code="OK",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 1
  grpc_server_handled_total{grpc_code="OutOfRange",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_server_handled_total{grpc_code="PermissionDenied",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_server_handled_total{grpc_code="ResourceExhausted",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_server_handled_total{grpc_code="Unauthenticated",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_server_handled_total{grpc_code="Unavailable",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_server_handled_total{grpc_code="Unimplemented",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_server_handled_total{grpc_code="Unknown",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_server_handled_total{grpc_code="Aborted",grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 0
  grpc_server_handled_total{grpc_code="AlreadyExists",grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 0
  grpc_server_handled_total{grpc_code="Canceled",grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 0
  grpc_server_handled_total{grpc_code="DataLoss",grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 0
  grpc_server_handled_total{grpc_code="DeadlineExceeded",grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 0
  grpc_server_handled_total{grpc_code="FailedPrecondition",grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 0
  grpc_server_handled_total{grpc_code="Internal",grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 0
  grpc_server_handled_total{grpc_code="InvalidArgument",grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 0
  grpc_server_handled_total{grpc_code="NotFound",grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 0
  grpc_server_handled_total{grpc_code="OK",grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 1
  grpc_server_handled_total{grpc_code="OutOfRange",grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 0
  grpc_server_handled_total{grpc_code="PermissionDenied",grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 0
  grpc_server_handled_total{grpc_code="ResourceExhausted",grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 0
  grpc_server_handled_total{grpc_code="Unauthenticated",grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 0
  grpc_server_handled_total{grpc_code="Unavailable",grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 0
  grpc_server_handled_total{grpc_code="Unimplemented",grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 0
  grpc_server_handled_total{grpc_code="Unknown",grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 0
  # HELP grpc_server_handling_seconds Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.
  # TYPE grpc_server_handling_seconds histogram
  grpc_server_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="0.005"} 1
  grpc_server_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="0.01"} 1
  grpc_server_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="0.025"} 1
  grpc_server_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="0.05"} 1
  grpc_server_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="0.1"} 1
  grpc_server_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="0.25"} 1
  grpc_server_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="0.5"} 1
  grpc_server_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="1"} 2
  grpc_server_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="2.5"} 2
  grpc_server_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="5"} 2
  grpc_server_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="10"} 2
  grpc_server_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="+Inf"} 2
  grpc_server_handling_seconds_sum{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0.703
  grpc_server_handling_seconds_count{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 2
  grpc_server_handling_seconds_bucket{grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream",le="0.005"} 0
  grpc_server_handling_seconds_bucket{grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream",le="0.01"} 0
  grpc_server_handling_seconds_bucket{grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream",le="0.025"} 0
  grpc_server_handling_seconds_bucket{grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream",le="0.05"} 0
  grpc_server_handling_seconds_bucket{grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream",le="0.1"} 0
  grpc_server_handling_seconds_bucket{grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream",le="0.25"} 0
  grpc_server_handling_seconds_bucket{grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream",le="0.5"} 0
  grpc_server_handling_seconds_bucket{grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream",le="1"} 0
  grpc_server_handling_seconds_bucket{grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream",le="2.5"} 1
  grpc_server_handling_seconds_bucket{grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream",le="5"} 1
  grpc_server_handling_seconds_bucket{grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream",le="10"} 1
  grpc_server_handling_seconds_bucket{grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream",le="+Inf"} 1
  grpc_server_handling_seconds_sum{grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 2.5
  grpc_server_handling_seconds_count{grpc_method="ServerStreamingEcho",grpc_service="proto.EchoService",grpc_type="server_stream"} 1
  # HELP grpc_client_started_total Total number of RPCs started on the client.
  # TYPE grpc_client_started_total counter
  grpc_client_started_total{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 1
  # HELP grpc_client_msg_sent_total Total number of gRPC stream messages sent by the client.
  # TYPE grpc_client_msg_sent_total counter
  grpc_client_msg_sent_total{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 1
  # HELP grpc_client_msg_received_total Total number of RPC stream messages received by the client.
  # TYPE grpc_client_msg_received_total counter
  grpc_client_msg_received_total{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 1
  # HELP grpc_client_handled_total Total number of RPCs completed by the client, regardless of success or failure.
  # TYPE grpc_client_handled_total counter
  grpc_client_handled_total{grpc_code="Aborted",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_client_handled_total{grpc_code="AlreadyExists",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_client_handled_total{grpc_code="Canceled",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_client_handled_total{grpc_code="DataLoss",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_client_handled_total{grpc_code="DeadlineExceeded",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_client_handled_total{grpc_code="FailedPrecondition",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_client_handled_total{grpc_code="Internal",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_client_handled_total{grpc_code="InvalidArgument",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_client_handled_total{grpc_code="NotFound",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_client_handled_total{grpc_code="OK",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 1
  grpc_client_handled_total{grpc_code="OutOfRange",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_client_handled_total{grpc_code="PermissionDenied",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_client_handled_total{grpc_code="ResourceExhausted",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_client_handled_total{grpc_code="Unauthenticated",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_client_handled_total{grpc_code="Unavailable",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_client_handled_total{grpc_code="Unimplemented",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  grpc_client_handled_total{grpc_code="Unknown",grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0
  # HELP grpc_client_handling_seconds Histogram of response latency (seconds) of the gRPC until it is finished by the application.
  # TYPE grpc_client_handling_seconds histogram
  grpc_client_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="0.005"} 0
  grpc_client_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="0.01"} 0
  grpc_client_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="0.025"} 0
  grpc_client_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="0.05"} 0
  grpc_client_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="0.1"} 0
  grpc_client_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="0.25"} 1
  grpc_client_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="0.5"} 1
  grpc_client_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="1"} 1
  grpc_client_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="2.5"} 1
  grpc_client_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="5"} 1
  grpc_client_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="10"} 1
  grpc_client_handling_seconds_bucket{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary",le="+Inf"} 1
  grpc_client_handling_seconds_sum{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 0.25
  grpc_client_handling_seconds_count{grpc_method="EchoService",grpc_service="proto.EchoService",grpc_type="unary"} 1
  """#

@Suite struct GoComparisonTests {
  @Test func scriptedWorkloadMatchesGoExposition() {
    let registry = PrometheusCollectorRegistry()
    let server = ServerMetrics(registry: registry)
    let client = ClientMetrics(registry: registry)
    let echo = GRPCMethod(service: "proto.EchoService", method: "EchoService", type: .unary)
    let stream = GRPCMethod(
      service: "proto.EchoService",
      method: "ServerStreamingEcho",
      type: .serverStream
    )

    let serverEcho = server.method(echo)
    serverEcho.started(); serverEcho.receivedMessage(); serverEcho.sentMessage()
    serverEcho.handled(.ok, after: .milliseconds(3))
    serverEcho.started(); serverEcho.receivedMessage()
    serverEcho.handled(.notFound, after: .milliseconds(700))
    let serverStream = server.method(stream)
    serverStream.started(); serverStream.receivedMessage()
    for _ in 0..<3 { serverStream.sentMessage() }
    serverStream.handled(.ok, after: .milliseconds(2500))
    let clientEcho = client.method(echo)
    clientEcho.started(); clientEcho.sentMessage(); clientEcho.receivedMessage()
    clientEcho.handled(.ok, after: .milliseconds(250))

    let rendered = MetricsExposition(registry: registry).render(accept: nil)
    #expect(rendered.contentType == "text/plain; version=0.0.4; charset=utf-8")
    let ours = ParsedExposition(rendered.body)
    let go = ParsedExposition(goExposition)
    #expect(sameSeries(ours.samples, go.samples) == [])
    #expect(ours.types == go.types)
    #expect(ours.helps == go.helps)
    // Series keys carry the label text verbatim, so equal keys mean equal `le` spellings.
    #expect(ours.samples.keys.contains { $0.hasSuffix(#"le="1"}"#) })
    #expect(ours.samples.keys.contains { $0.hasSuffix(#"le="2.5"}"#) })
    #expect(ours.samples.keys.contains { $0.hasSuffix(#"le="+Inf"}"#) })
    #expect(!ours.samples.keys.contains { $0.hasSuffix(#"le="1.0"}"#) })
  }
}
