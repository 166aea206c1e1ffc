import CLibFuzzer
import GRPCWire
import Glibc
import NIOCore

/// The gRPC message deframer and decompression on a stream's DATA.
///
/// The first byte picks the receive limit (0 to 4095 bytes, from its low bits) and the encoding
/// (its high bits: identity, gzip, deflate); the second the size of the chunks the rest arrives
/// in. Checked beyond memory safety:
/// - no message handed out exceeds the limit, decompressed or not;
/// - with identity, the messages handed out plus what is still buffered re-frame to exactly the
///   bytes fed in (nothing lost, invented or reordered);
/// - errors are sticky: once `next()` throws, every later call throws the same error.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzGRPCDeframer(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  let input = UnsafeBufferPointer(start: start, count: count)
  guard input.count >= 2 else { return 0 }
  let maxMessageSize = Int(input[0] & 0x0F) << 8 | Int(input[1])
  let encodings: [GRPCMessageEncoding] = [.identity, .gzip, .deflate]
  let encoding = encodings[Int(input[0] >> 4) % encodings.count]
  let chunkSize = Int(input[1]) + 1
  let stream = input[2...]

  var deframer = GRPCMessageDeframer(maxMessageSize: maxMessageSize, encoding: encoding)
  var reframed: [UInt8] = []
  var failure: GRPCWireError?
  var offset = stream.startIndex
  while offset < stream.endIndex, failure == nil {
    let end = min(offset + chunkSize, stream.endIndex)
    deframer.append(ByteBuffer(bytes: stream[offset..<end]))
    offset = end
    do {
      while let message = try deframer.next() {
        precondition(message.readableBytes <= maxMessageSize, "a message over the limit")
        if encoding == .identity {
          reframed += [0] + withUnsafeBytes(of: UInt32(message.readableBytes).bigEndian, Array.init)
          reframed += message.readableBytesView
        }
      }
    } catch {
      failure = error
    }
  }
  if let failure {
    for _ in 0..<2 {
      do {
        _ = try deframer.next()
        preconditionFailure("next() succeeded after throwing \(failure)")
      } catch {
        precondition(error == failure, "next() threw \(error) after \(failure)")
      }
    }
  } else if encoding == .identity {
    let fedIn = Array(stream)
    precondition(fedIn.count == reframed.count + deframer.bufferedBytes, "bytes lost or invented")
    precondition(fedIn.starts(with: reframed), "messages differ from the bytes fed in")
    precondition((try? deframer.finish()) != nil || deframer.bufferedBytes > 0)
  }
  return 0
}

@main
enum FuzzGRPCDeframer {
  static func main() {
    exit(clibfuzzer_main(CommandLine.argc, CommandLine.unsafeArgv))
  }
}
