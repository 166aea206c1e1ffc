import CLibFuzzer
import Glibc
import HTTP1Serving
import NIOCore
import NIOEmbedded
import NIOHTTP1

/// The HTTP/1.1 request parser as both processes configure it (`configureGuardedHTTP1Server`:
/// NIO's decoder with the head-size cap, the request guard's deadlines and error answers, the
/// writability gate), behind a responder that answers each complete request `200` with an empty
/// body.
///
/// The first byte sets the read size (its low six bits: 1 to 64 bytes) and how far the clock moves
/// after each read (its top two bits: 0, 4, 8 or 12 seconds, against a 10-second head deadline
/// and a 30-second body deadline). Checked beyond memory safety:
/// - the bytes written are a sequence of whole HTTP/1.1 responses, one `200` per request answered;
/// - a response that says `Connection: close` is the last thing written, and the connection is
///   closed after it.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzHTTP1Server(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  let input = UnsafeBufferPointer(start: start, count: count)
  guard let first = input.first else { return 0 }
  let readSize = Int(first & 0x3F) + 1
  let tick = TimeAmount.seconds(Int64(first >> 6) * 4)

  let channel = EmbeddedChannel()
  let responder = Responder()
  do {
    try channel.pipeline.syncOperations.configureGuardedHTTP1Server(limits: limits)
    try channel.pipeline.syncOperations.addHandler(responder)
    try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 50_000)).wait()
  } catch {
    fatalError("could not set up the connection: \(error)")
  }
  var output: [UInt8] = []
  var offset = 1
  while offset < input.count, channel.isActive {
    let end = min(offset + readSize, input.count)
    _ = try? channel.writeInbound(ByteBuffer(bytes: input[offset..<end]))
    channel.embeddedEventLoop.advanceTime(by: tick)
    while let buffer = try? channel.readOutbound(as: ByteBuffer.self) {
      output += buffer.readableBytesView
    }
    offset = end
  }
  let wasClosedByServer = !channel.isActive
  _ = try? channel.finish()

  let responses = Response.parseAll(output)
  let written = String(decoding: output, as: UTF8.self)
  precondition(
    responses.filter { $0.status == 200 }.count == responder.answered,
    "\(responder.answered) requests answered, but the server wrote:\n\(written)")
  if let closing = responses.firstIndex(where: \.closes) {
    precondition(
      closing == responses.count - 1, "a response follows Connection: close:\n\(written)")
    precondition(wasClosedByServer, "the connection stayed open after Connection: close")
  }
  return 0
}

private let limits = HTTP1ConnectionLimits(
  headTimeout: .seconds(10), bodyTimeout: .seconds(30), idleTimeout: .seconds(60),
  maxHeadBytes: 1024, maxBodyBytes: 4096)

/// Answers every complete request `200` with an empty body.
private final class Responder: ChannelInboundHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  private var head: HTTPRequestHead?
  private(set) var answered = 0

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch self.unwrapInboundIn(data) {
    case .head(let head): self.head = head
    case .body: break
    case .end:
      guard let head = self.head.take() else { preconditionFailure("an end without a head") }
      self.answered += 1
      HTTP1Response.text(.ok, "").write(answering: head, on: context)
    }
  }
}

/// One response read back from the bytes written.
private struct Response {
  var status: Int
  var closes: Bool

  /// Splits `bytes` into responses; fails on anything that is not one. The responder's answers
  /// have no body; the guard's error answers have one of their Content-Length.
  static func parseAll(_ bytes: [UInt8]) -> [Response] {
    var responses: [Response] = []
    var rest = bytes[...]
    let separator = Array("\r\n\r\n".utf8)
    while !rest.isEmpty {
      guard let end = rest.firstRange(of: separator) else {
        preconditionFailure("a partial response head: \(String(decoding: rest, as: UTF8.self))")
      }
      let lines = String(decoding: rest[..<end.lowerBound], as: UTF8.self)
        .split(separator: "\r\n", omittingEmptySubsequences: false)
      let statusLine = lines[0].split(separator: " ")
      precondition(statusLine.count >= 2 && statusLine[0].hasPrefix("HTTP/1."), "\(lines[0])")
      guard let status = Int(statusLine[1]) else { preconditionFailure("\(lines[0])") }
      var length = 0
      var closes = false
      for line in lines.dropFirst() {
        let parts = line.split(separator: ":", maxSplits: 1)
        precondition(parts.count == 2, "a malformed header line: \(line)")
        let value = parts[1].trimmingPrefix(" ")
        switch parts[0].lowercased() {
        case "content-length": length = Int(value) ?? -1
        case "connection": closes = value.lowercased() == "close"
        default: break
        }
      }
      precondition(length >= 0, "a bad Content-Length")
      let bodyLength = status == 200 ? 0 : length
      rest = rest[end.upperBound...]
      precondition(rest.count >= bodyLength, "a truncated body")
      rest = rest.dropFirst(bodyLength)
      responses.append(Response(status: status, closes: closes))
    }
    return responses
  }
}

@main
enum FuzzHTTP1Server {
  static func main() {
    exit(clibfuzzer_main(CommandLine.argc, CommandLine.unsafeArgv))
  }
}
