import GRPCWire
import NIOHTTP1
import Testing

@testable import EchoClientCore

@Suite("Echo responses and error mapping")
struct EchoResponseTests {
  @Test(
    "gRPC status to HTTP status",
    arguments: [
      (GRPCStatus.Code.ok, HTTPResponseStatus.ok), (.unavailable, .serviceUnavailable),
      (.deadlineExceeded, .gatewayTimeout), (.invalidArgument, .badRequest),
      (.resourceExhausted, .payloadTooLarge), (.internalError, .badGateway),
      (.unknown, .badGateway),
      (.cancelled, .badGateway), (.unimplemented, .badGateway),
    ])
  func mapping(code: GRPCStatus.Code, http: HTTPResponseStatus) {
    #expect(EchoResponse.httpStatus(for: code, isServerStatus: true) == http)
  }

  @Test("RESOURCE_EXHAUSTED the gateway concluded itself (a reply over its limit) is 502")
  func replyTooLarge() {
    #expect(EchoResponse.httpStatus(for: .resourceExhausted, isServerStatus: false) == .badGateway)
  }

  @Test("success is the original's text, without a trailing newline")
  func text() {
    let response = EchoResponse.render(
      reply: "echo hello", status: .ok, isServerStatus: true, elapsed: .milliseconds(1),
      peer: nil, json: false)
    #expect(response.status == .ok)
    #expect(response.contentType == "text/plain; charset=utf-8")
    #expect(String(buffer: response.body) == "Response: echo hello")
  }

  @Test("failure names the gRPC code and message, in text and JSON")
  func failure() {
    let status = GRPCStatus(code: .deadlineExceeded, message: "deadline exceeded")
    let text = EchoResponse.render(
      reply: nil, status: status, isServerStatus: false, elapsed: .milliseconds(5), peer: nil,
      json: false)
    #expect(text.status == .gatewayTimeout)
    #expect(
      String(buffer: text.body) == "Error: gRPC status DEADLINE_EXCEEDED (4): deadline exceeded\n")
    let json = EchoResponse.render(
      reply: nil, status: status, isServerStatus: false, elapsed: .microseconds(1500),
      peer: "127.0.0.1:1", json: true)
    #expect(json.contentType == "application/json")
    #expect(
      String(buffer: json.body)
        == #"{"grpc_code":4,"grpc_message":"deadline exceeded","grpc_status":"DEADLINE_EXCEEDED","#
        + #""latency_ms":1.5,"replica":"127.0.0.1:1"}"#)
  }

  @Test("the page escapes the configured URLs")
  func pageEscapes() {
    let html = GatewayPage.html(prometheusURL: "http://p\"><x>", grafanaURL: "http://g")
    #expect(html.contains("http://p&quot;&gt;&lt;x&gt;"))
    #expect(!html.contains("<x>"))
  }
}
