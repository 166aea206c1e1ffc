import CLibFuzzer
import EchoClientCore
import Glibc
import NIOHTTP1

/// The gateway's reading of a request: the target split into path and query, the query's
/// percent- and plus-decoding, the JSON body of `POST /echo`, and the limits.
///
/// The input is the method's index byte, then the request target, the `Accept` header and the
/// body, separated by zero bytes (a missing part is absent). Checked beyond memory safety:
/// - every message forwarded is within the message limit, and every refusal says why;
/// - only `/echo` forwards anything, and a target over the limit is refused whatever it holds.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzGatewayRoute(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  let input = UnsafeBufferPointer(start: start, count: count)
  guard let first = input.first else { return 0 }
  let methods: [HTTPMethod] = [.GET, .HEAD, .POST, .PUT, .DELETE, .OPTIONS]
  let method = methods[Int(first) % methods.count]
  let parts = input.dropFirst().split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
  let uri = String(decoding: parts[0], as: UTF8.self)
  let accept = parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : nil
  let body = parts.count > 2 ? Array(parts[2]) : nil

  let route = GatewayRoute(method: method, uri: uri, accept: accept, body: body, limits: limits)
  switch route {
  case .echo(let message, _):
    precondition(message.utf8.count <= limits.maxMessageBytes, "a message over the limit")
    precondition(uri.utf8.count <= limits.maxURILength, "a target over the limit was routed")
    precondition(
      uri.utf8.split(
        separator: UInt8(ascii: "?"), maxSplits: 1,
        omittingEmptySubsequences: false)[0].elementsEqual("/echo".utf8), "echo from \(uri)")
  case .refused(let status, let reason):
    precondition(status.code >= 400 && status.code < 500, "refused with \(status)")
    precondition(!reason.isEmpty, "a refusal without a reason")
  case .page, .metrics, .healthz, .readyz, .stats:
    precondition(uri.utf8.count <= limits.maxURILength, "a target over the limit was routed")
  }
  return 0
}

private let limits = GatewayRoute.Limits(maxMessageBytes: 64, maxURILength: 256)

@main
enum FuzzGatewayRoute {
  static func main() {
    exit(clibfuzzer_main(CommandLine.argc, CommandLine.unsafeArgv))
  }
}
