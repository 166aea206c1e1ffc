import GRPCWire
import NIOCore
import Testing

@Suite struct GRPCMessageFramerTests {
  @Test func identityWritesPrefixAndPayload() throws {
    var output = ByteBuffer(bytes: [0xAA])
    try GRPCMessageFramer().append(ByteBuffer(bytes: [1, 2, 3]), to: &output)
    #expect(output.bytes == [0xAA] + lengthPrefixed([1, 2, 3]))
  }

  @Test func emptyMessageIsAPrefixOnly() throws {
    var output = ByteBuffer()
    try GRPCMessageFramer(encoding: .gzip).append(ByteBuffer(), to: &output)
    #expect(output.bytes == [0, 0, 0, 0, 0])
  }

  @Test func compressedMessageHasFlagOneAndItsCompressedLength() throws {
    var output = ByteBuffer()
    let payload = ByteBuffer(repeating: UInt8(ascii: "a"), count: 1000)
    try GRPCMessageFramer(encoding: .gzip).append(payload, to: &output)
    let flags = try #require(output.getInteger(at: 0, as: UInt8.self))
    let length = try #require(output.getInteger(at: 1, as: UInt32.self))
    #expect(flags == 1)
    #expect(Int(length) == output.readableBytes - 5)
    #expect(length < 100)
    // gzip magic number.
    #expect(output.getBytes(at: 5, length: 2) == [0x1F, 0x8B])
  }

  @Test func compressCanBeDeclinedPerMessage() throws {
    var output = ByteBuffer()
    try GRPCMessageFramer(encoding: .gzip).append(
      ByteBuffer(bytes: [7, 8]),
      to: &output,
      compress: false
    )
    #expect(output.bytes == lengthPrefixed([7, 8]))
  }

  @Test func appendMessageWritesThePayloadInPlace() {
    var output = ByteBuffer()
    GRPCMessageFramer.appendMessage(to: &output) { $0.writeBytes([9, 8, 7, 6]) }
    GRPCMessageFramer.appendMessage(to: &output) { _ in }
    #expect(output.bytes == lengthPrefixed([9, 8, 7, 6]) + lengthPrefixed([]))
  }

  @Test func appendMessageRollsBackWhenThePayloadFails() {
    struct SerializationFailed: Error {}
    var output = ByteBuffer(bytes: [1])
    #expect(throws: SerializationFailed.self) {
      try GRPCMessageFramer.appendMessage(to: &output) { buffer throws(SerializationFailed) in
        buffer.writeBytes([1, 2, 3])
        throw SerializationFailed()
      }
    }
    #expect(output.bytes == [1])
  }
}
