import GRPCWire
import NGHTTP2
import NIOCore
import Testing

@testable import GRPCClientChannel

@Suite("Unary response reader")
struct GRPCUnaryResponseReaderTests {
  let responseHeaders = NGHTTP2HeaderBlock(
    kind: .response,
    fields: [(":status", "200"), ("content-type", "application/grpc"), ("x-replica", "a")])

  func trailers(_ code: String, _ message: String? = nil) -> NGHTTP2HeaderBlock {
    var fields: [NGHTTP2HeaderField] = [("grpc-status", code)]
    if let message { fields.append(("grpc-message", message)) }
    return NGHTTP2HeaderBlock(kind: .trailers, fields: fields)
  }

  func feed(_ reader: inout GRPCUnaryResponseReader, _ payload: [UInt8]) {
    var framed = ByteBuffer()
    GRPCMessageFramer.appendMessage(to: &framed) { $0.writeBytes(payload) }
    // Split the frame in two to check reassembly.
    reader.receive(framed.readSlice(length: 3)!)
    reader.receive(framed)
  }

  @Test("headers, one message, OK trailers: the message and custom metadata")
  func success() {
    var reader = GRPCUnaryResponseReader(maxMessageSize: 100)
    reader.receive(self.responseHeaders)
    self.feed(&reader, [1, 2, 3])
    reader.receive(self.trailers("0"))
    let (status, message, isServerStatus) = reader.finish(errorCode: .noError)
    #expect(status == .ok)
    #expect(isServerStatus)
    #expect(message.map { Array($0.readableBytesView) } == [1, 2, 3])
    #expect(reader.messageCount == 1)
  }

  @Test("metadata from the headers and the trailers; the protocol's own fields are not metadata")
  func metadata() {
    var reader = GRPCUnaryResponseReader(maxMessageSize: 100)
    reader.receive(
      NGHTTP2HeaderBlock(
        kind: .response,
        fields: [
          (":status", "200"), ("content-type", "application/grpc+proto"), ("x-replica", "a"),
          ("grpc-encoding", "identity"), ("te", "x"),
        ]))
    self.feed(&reader, [1])
    reader.receive(
      NGHTTP2HeaderBlock(
        kind: .trailers,
        fields: [("grpc-status", "0"), ("grpc-message", "fine"), ("x-trailer", "b")]))
    #expect(
      reader.metadata.map { "\($0.name)=\($0.value)" } == ["x-replica=a", "te=x", "x-trailer=b"])
    let (status, message, _) = reader.finish(errorCode: .noError)
    #expect(status.code == .ok)
    #expect(message.map { Array($0.readableBytesView) } == [1])
  }

  @Test("the first of repeated fields counts")
  func repeatedFields() {
    var reader = GRPCUnaryResponseReader(maxMessageSize: 100)
    reader.receive(
      NGHTTP2HeaderBlock(
        kind: .response,
        fields: [(":status", "503"), (":status", "200"), ("content-type", "application/grpc")]))
    #expect(reader.finish(errorCode: .noError).status.code == .unavailable)
  }

  @Test("trailers-only error: code and percent-decoded message")
  func trailersOnly() {
    var reader = GRPCUnaryResponseReader(maxMessageSize: 100)
    reader.receive(
      NGHTTP2HeaderBlock(
        kind: .response,
        fields: [
          (":status", "200"), ("content-type", "application/grpc"), ("grpc-status", "8"),
          ("grpc-message", "too%20big"),
        ]))
    let (status, message, isServerStatus) = reader.finish(errorCode: .noError)
    #expect(status == GRPCStatus(code: .resourceExhausted, message: "too big"))
    #expect(isServerStatus)
    #expect(message == nil)
  }

  @Test(
    "a non-200 answer maps by HTTP status",
    arguments: [
      (404, GRPCStatus.Code.unimplemented), (503, .unavailable), (401, .unauthenticated),
      (400, .internalError), (500, .unknown),
    ])
  func httpStatus(status: Int, code: GRPCStatus.Code) {
    var reader = GRPCUnaryResponseReader(maxMessageSize: 100)
    reader.receive(NGHTTP2HeaderBlock(kind: .response, fields: [(":status", String(status))]))
    #expect(reader.finish(errorCode: .noError).status.code == code)
  }

  @Test("resets: REFUSED_STREAM is UNAVAILABLE, CANCEL is CANCELLED, others INTERNAL")
  func resets() {
    let reader = GRPCUnaryResponseReader(maxMessageSize: 100)
    #expect(reader.finish(errorCode: .refusedStream).status.code == .unavailable)
    #expect(reader.finish(errorCode: .cancel).status.code == .cancelled)
    #expect(reader.finish(errorCode: .internalError).status.code == .internalError)
  }

  @Test("OK without a message, or with two, is INTERNAL; no grpc-status is INTERNAL")
  func malformed() {
    var none = GRPCUnaryResponseReader(maxMessageSize: 100)
    none.receive(self.responseHeaders)
    none.receive(self.trailers("0"))
    #expect(none.finish(errorCode: .noError).status.code == .internalError)

    var two = GRPCUnaryResponseReader(maxMessageSize: 100)
    two.receive(self.responseHeaders)
    self.feed(&two, [1])
    self.feed(&two, [2])
    two.receive(self.trailers("0"))
    #expect(two.finish(errorCode: .noError).status.code == .internalError)

    var noStatus = GRPCUnaryResponseReader(maxMessageSize: 100)
    noStatus.receive(self.responseHeaders)
    #expect(noStatus.finish(errorCode: .noError).status.code == .internalError)
  }

  @Test("a response message over the limit is RESOURCE_EXHAUSTED")
  func tooLarge() {
    var reader = GRPCUnaryResponseReader(maxMessageSize: 2)
    reader.receive(self.responseHeaders)
    self.feed(&reader, [1, 2, 3])
    reader.receive(self.trailers("0"))
    let outcome = reader.finish(errorCode: .noError)
    #expect(outcome.status.code == .resourceExhausted)
    #expect(!outcome.isServerStatus, "the reply was refused here; the server said OK")
  }

  @Test("a 200 that is not gRPC is UNKNOWN, whatever its body looks like as gRPC framing")
  func notGRPC() {
    var reader = GRPCUnaryResponseReader(maxMessageSize: 100)
    reader.receive(
      NGHTTP2HeaderBlock(
        kind: .response, fields: [(":status", "200"), ("content-type", "text/html")]))
    reader.receive(ByteBuffer(string: "<html><body>not gRPC</body></html>"))
    reader.receive(self.trailers("0"))
    #expect(
      reader.finish(errorCode: .noError).status
        == GRPCStatus(code: .unknown, message: "the response is not gRPC (content-type)"))
  }

  @Test("a reply that ends inside a message is INTERNAL and says so")
  func endsInsideAMessage() {
    var reader = GRPCUnaryResponseReader(maxMessageSize: 100)
    reader.receive(self.responseHeaders)
    reader.receive(ByteBuffer(bytes: [0, 0, 0, 0, 10, 1, 2, 3]))  // 3 of 10 bytes.
    reader.receive(self.trailers("0"))
    let status = reader.finish(errorCode: .noError).status
    #expect(status.code == .internalError)
    #expect(status.message.hasPrefix("reading the response: The stream ended in the middle"))
    #expect(status.message.contains("8 bytes of an incomplete length-prefixed message"))
  }

  @Test("the compressed flag under grpc-encoding identity is INTERNAL, naming the encoding")
  func compressedUnderIdentity() {
    var reader = GRPCUnaryResponseReader(maxMessageSize: 100)
    reader.receive(
      NGHTTP2HeaderBlock(
        kind: .response,
        fields: [
          (":status", "200"), ("content-type", "application/grpc"), ("grpc-encoding", "identity"),
        ]))
    reader.receive(ByteBuffer(bytes: [1, 0, 0, 0, 1, 7]))
    reader.receive(self.trailers("0"))
    let status = reader.finish(errorCode: .noError).status
    #expect(status.code == .internalError)
    #expect(status.message.contains("grpc-encoding absent or identity"))
  }
}
