import GRPCPrometheus
import NIOCore

/// The unary echo method, and requests for it, as the channel tests send them.
enum EchoRequests {
  static let method = GRPCMethod(
    service: "proto.EchoService", method: "EchoService", type: .unary)

  /// The serialized `Message { message: text }`, for a text shorter than 128 bytes.
  static func request(_ text: String) -> ByteBuffer {
    ByteBuffer(bytes: [0x0A, UInt8(text.utf8.count)] + Array(text.utf8))
  }
}
