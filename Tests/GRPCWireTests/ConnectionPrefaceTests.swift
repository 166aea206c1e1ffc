import GRPCWire
import NIOCore
import Testing

@Suite struct ConnectionPrefaceTests {
  private static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

  @Test(arguments: [
    ("", ConnectionPreface.Detection.needMoreBytes),
    ("P", .needMoreBytes),
    ("PRI * HTTP/2.0\r\n", .needMoreBytes),
    ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r", .needMoreBytes),
    ("PRX", .http1),
    ("POST /", .http1),
    ("GET /metrics HTTP/1.1\r\n", .http1),
    ("G", .http1),
    ("PRI * HTTP/1.1\r\n", .http1),
  ])
  func detects(bytes: String, detection: ConnectionPreface.Detection) {
    #expect(ConnectionPreface.detect(ByteBuffer(string: bytes)) == detection)
  }

  @Test func fullPrefaceIsHTTP2EvenWithFramesAfterIt() {
    #expect(ConnectionPreface.detect(ByteBuffer(bytes: Self.preface)) == .http2)
    let withSettings = Self.preface + [0, 0, 0, 4, 0, 0, 0, 0, 0]
    #expect(ConnectionPreface.detect(ByteBuffer(bytes: withSettings)) == .http2)
  }

  @Test func prefaceSplitOverChunks() {
    // As a handler accumulates chunks: undecided until the last byte arrives.
    var received = ByteBuffer()
    for (index, byte) in Self.preface.enumerated() {
      received.writeInteger(byte)
      let expected: ConnectionPreface.Detection =
        index == Self.preface.count - 1 ? .http2 : .needMoreBytes
      #expect(ConnectionPreface.detect(received) == expected, "after \(index + 1) bytes")
    }
  }

  @Test func onlyReadableBytesCount() {
    var buffer = ByteBuffer(string: "GET ")
    buffer.writeBytes(Self.preface)
    buffer.moveReaderIndex(forwardBy: 4)
    #expect(ConnectionPreface.detect(buffer) == .http2)
    #expect(buffer.readableBytes == Self.preface.count)
  }

  @Test func prefaceConstantIsTheRFCPreface() {
    let bytes = ConnectionPreface.http2.withUTF8Buffer { Array($0) }
    #expect(bytes == Self.preface)
    #expect(bytes.count == 24)
  }
}
