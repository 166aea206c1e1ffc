import GRPCWire
import HTTP1Serving
import NIOCore
import NIOHTTP1

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Turns the outcome of an echo call into the HTTP answer: the original's plain text on success,
/// JSON on request, and never an empty reply on failure.
enum EchoResponse {
  /// The HTTP status for a gRPC status: the server being down or overloaded is 503, a deadline
  /// 504, a bad message 400, a message the server found too large 413, anything else a bad
  /// gateway (502), a reply too large for the gateway among them (`isServerStatus` false).
  static func httpStatus(for code: GRPCStatus.Code, isServerStatus: Bool) -> HTTPResponseStatus {
    switch code {
    case .ok: .ok
    case .unavailable: .serviceUnavailable
    case .deadlineExceeded: .gatewayTimeout
    case .invalidArgument: .badRequest
    case .resourceExhausted where isServerStatus: .payloadTooLarge
    default: .badGateway
    }
  }

  /// The response for a call that ended with `status` (and `reply` when OK).
  static func render(
    reply: String?, status: GRPCStatus, isServerStatus: Bool, elapsed: Duration, peer: String?,
    json: Bool
  ) -> HTTP1Response {
    let httpStatus = Self.httpStatus(for: status.code, isServerStatus: isServerStatus)
    guard json else {
      if status.code == .ok, let reply {
        return .text(.ok, "Response: " + reply)
      }
      return .text(
        httpStatus,
        "Error: gRPC status \(status.code.name) (\(status.code.rawValue)): \(status.message)\n")
    }
    let body = EchoJSONReply(
      reply: status.code == .ok ? reply : nil,
      grpcStatus: status.code.name,
      grpcCode: status.code.rawValue,
      grpcMessage: status.message,
      latencyMs: (elapsed / .microseconds(1)).rounded() / 1e3,
      replica: peer)
    return Self.json(httpStatus, body)
  }

  /// A JSON response with `value` encoded (keys sorted, so bodies are stable).
  static func json(_ status: HTTPResponseStatus, _ value: some Encodable) -> HTTP1Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
    return HTTP1Response(
      status: status, contentType: "application/json", body: ByteBuffer(bytes: data))
  }
}
