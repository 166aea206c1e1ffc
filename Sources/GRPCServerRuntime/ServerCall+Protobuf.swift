import GRPCWire
import NIOCore
import SwiftProtobuf

extension ServerCall {
  /// Serializes and sends one response message.
  public func send(_ message: some SwiftProtobuf.Message) {
    let serialized: LengthPrefixedMessage
    do {
      serialized = try message.serializedBytes()
    } catch {
      self.finish(
        GRPCStatus(code: .internalError, message: "could not serialize the response: \(error)"))
      return
    }
    if self.responseEncoding == .identity {
      self.send(framed: serialized.framed)
    } else {
      self.send(serialized.payload)
    }
  }
}

extension SwiftProtobuf.Message {
  /// Decodes a request payload, or throws the `INTERNAL` status gRPC servers answer with.
  init(requestPayload payload: ByteBuffer) throws(GRPCStatus) {
    do {
      try self.init(serializedBytes: payload.readableBytesSpan)
    } catch {
      throw GRPCStatus(
        code: .internalError,
        message: "could not decode the request as \(Self.protoMessageName): \(error)")
    }
  }
}
