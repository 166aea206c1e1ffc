import NGHTTP2
import NIOCore

/// Headers and bodies the session tests send.
enum Fixtures {
  static func request(path: String = "/echo.Echo/Get") -> NGHTTP2HeaderList {
    NGHTTP2HeaderList(Self.requestHeaders(path: path))
  }

  static func requestHeaders(path: String = "/echo.Echo/Get") -> [NGHTTP2HeaderField] {
    [
      (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
      ("content-type", "application/grpc"), ("te", "trailers"),
    ]
  }

  static func requestFields(path: String = "/echo.Echo/Get") -> [String] {
    [
      ":method: POST", ":scheme: http", ":path: \(path)", ":authority: localhost",
      "content-type: application/grpc", "te: trailers",
    ]
  }

  static let response: NGHTTP2HeaderList = [
    (":status", "200"), ("content-type", "application/grpc"),
  ]

  static let trailers: NGHTTP2HeaderList = [("grpc-status", "0"), ("grpc-message", "ok")]

  static func buffer(_ string: String) -> ByteBuffer {
    ByteBuffer(string: string)
  }

  static func bytes(_ string: String) -> [UInt8] {
    Array(string.utf8)
  }

  static let responseFields = [":status: 200", "content-type: application/grpc"]

  static let trailerFields = ["grpc-status: 0", "grpc-message: ok"]
}
