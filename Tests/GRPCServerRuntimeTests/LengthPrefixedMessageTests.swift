import GRPCWire
import NIOCore
import ProtoMessages
import SwiftProtobuf
import Testing

@testable import GRPCServerRuntime

@Suite("LengthPrefixedMessage")
struct LengthPrefixedMessageTests {
  @Test("swift-protobuf serializes behind the gRPC prefix, which carries the payload length")
  func serializesBehindThePrefix() throws {
    let message = Proto_Message.with { $0.message = "echo hello" }
    let framed: LengthPrefixedMessage = try message.serializedBytes()
    let expected: [UInt8] = try message.serializedBytes()
    #expect(framed.count == expected.count)
    #expect(
      Array(framed.framed.readableBytesView) == [0, 0, 0, 0, UInt8(expected.count)] + expected)
    #expect(Array(framed.payload.readableBytesView) == expected)
    // And what the deframer reads back is the message.
    var deframer = GRPCMessageDeframer(maxMessageSize: 100)
    deframer.append(framed.framed)
    let payload = try #require(try deframer.next())
    #expect(try Proto_Message(serializedBytes: Array(payload.readableBytesView)) == message)
  }

  @Test("an empty message is just the prefix")
  func emptyMessage() throws {
    let framed: LengthPrefixedMessage = try Proto_Message().serializedBytes()
    #expect(Array(framed.framed.readableBytesView) == [0, 0, 0, 0, 0])
  }

  @Test("built from a sequence, as swift-protobuf's protocol also allows")
  func fromSequence() {
    let framed = LengthPrefixedMessage([1, 2, 3])
    #expect(Array(framed.framed.readableBytesView) == [0, 0, 0, 0, 3, 1, 2, 3])
    #expect(framed.withUnsafeBytes { Array($0) } == [1, 2, 3])
  }
}
