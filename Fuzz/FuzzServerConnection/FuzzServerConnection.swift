import CLibFuzzer
import EchoServerCore
import Glibc
import Logging
import NIOCore
import NIOEmbedded

// Made once: every input is a new connection to the same server.
private let server = try! EchoServer(
  configuration: .defaults, logger: Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() })

/// One EchoServer connection per input, everything behind the socket: the protocol sniffer, then
/// either HTTP/1.1 (the guarded request parser, `/metrics`, `/healthz`) or HTTP/2 (nghttp2, header
/// blocks, the gRPC deframer and decompression, the echo, health and reflection services).
///
/// The first byte sets the size of the reads the rest arrives in (1 to 256 bytes), so requests
/// split anywhere are tried. After the last read the clock jumps an hour ahead, firing every
/// deadline, idle and keepalive timer, and the connection is closed.
///
/// Checked beyond memory safety: whatever the server writes first is an HTTP/1.1 status line or
/// an HTTP/2 SETTINGS frame; nothing else may precede its answer.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzServerConnection(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  let input = UnsafeBufferPointer(start: start, count: count)
  guard let first = input.first else { return 0 }
  let readSize = Int(first) + 1
  let channel = EmbeddedChannel()
  do {
    try channel.pipeline.syncOperations.addHandler(server.makeConnectionHandler())
    try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 50_000)).wait()
  } catch {
    fatalError("could not set up the connection: \(error)")
  }
  var output: [UInt8] = []
  var offset = 1
  while offset < input.count, channel.isActive {
    let end = min(offset + readSize, input.count)
    // A peer's bad bytes surface as errors fired down the pipeline; the server's answer to them
    // (a 400, a GOAWAY, a close) is what is under test, not the error value.
    _ = try? channel.writeInbound(ByteBuffer(bytes: input[offset..<end]))
    collect(from: channel, into: &output)
    offset = end
  }
  channel.embeddedEventLoop.advanceTime(by: .hours(1))
  collect(from: channel, into: &output)
  _ = try? channel.finish()
  if !output.isEmpty {
    // An HTTP/1.0 request is answered in HTTP/1.0.
    let isStatusLine =
      output.starts(with: Array("HTTP/1.1 ".utf8)) || output.starts(with: Array("HTTP/1.0 ".utf8))
    // A frame header: 24-bit length, type 0x4 (SETTINGS), flags, stream 0.
    let isSettingsFrame =
      output.count >= 9 && output[3] == 0x4 && output[5..<9].allSatisfy { $0 == 0 }
    precondition(
      isStatusLine || isSettingsFrame, "the server's first bytes are \(output.prefix(16))")
  }
  return 0
}

private func collect(from channel: EmbeddedChannel, into output: inout [UInt8]) {
  while let buffer = try? channel.readOutbound(as: ByteBuffer.self) {
    output += buffer.readableBytesView
  }
}

@main
enum FuzzServerConnection {
  static func main() {
    exit(clibfuzzer_main(CommandLine.argc, CommandLine.unsafeArgv))
  }
}
