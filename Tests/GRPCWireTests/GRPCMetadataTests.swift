import GRPCWire
import Testing

@Suite struct GRPCMetadataTests {
  @Test(arguments: [
    ":path", ":authority", ":status", "content-type", "te", "grpc-timeout", "grpc-encoding",
    "grpc-accept-encoding", "grpc-message-type", "grpc-status", "grpc-message",
    "grpc-status-details-bin",
  ])
  func reservedHeaders(name: String) {
    #expect(GRPCMetadata.isReservedHeader(name))
  }

  @Test(arguments: [
    "user-agent", "authorization", "x-request-id", "trace-bin", "grpc-previous-rpc-attempts",
    "grpc-retry-pushback-ms",
  ])
  func userMetadata(name: String) {
    #expect(!GRPCMetadata.isReservedHeader(name))
  }

  @Test(arguments: [
    ("trace-bin", true), ("x-bin", true), ("-bin", false), ("bin", false),
    ("trace-binary", false), ("x-request-id", false),
  ])
  func binaryHeaders(name: String, isBinary: Bool) {
    #expect(GRPCMetadata.isBinaryHeader(name) == isBinary)
    let bytes = Array(name.utf8)
    #expect(bytes.withUnsafeBytes { GRPCMetadata.isBinaryHeader(utf8: $0) } == isBinary)
  }

  // RFC 4648 test vectors, with and without padding.
  @Test(arguments: [
    ("", "", ""),
    ("f", "Zg", "Zg=="),
    ("fo", "Zm8", "Zm8="),
    ("foo", "Zm9v", "Zm9v"),
    ("foob", "Zm9vYg", "Zm9vYg=="),
    ("fooba", "Zm9vYmE", "Zm9vYmE="),
    ("foobar", "Zm9vYmFy", "Zm9vYmFy"),
  ])
  func decodesBinaryValuesInBothPaddings(plain: String, unpadded: String, padded: String) {
    let bytes = Array(plain.utf8)
    #expect(GRPCMetadata.decodeBinaryValue(unpadded) == bytes)
    #expect(GRPCMetadata.decodeBinaryValue(padded) == bytes)
  }

  @Test func binaryValueDecodesTheStandardAlphabet() {
    let bytes: [UInt8] = [0xFB, 0xFF, 0xBF, 0x00, 0x10]
    #expect(GRPCMetadata.decodeBinaryValue("+/+/ABA") == bytes)
    #expect(GRPCMetadata.decodeBinaryValue("+/+/ABA=") == bytes)
  }

  @Test(arguments: ["Z", "Zg=", "Zg===", "Z===", "Zm9v!", "Zg==Zg==", "=Zg=", "-_-_", "Zm 9v"])
  func rejectsInvalidBase64(value: String) {
    #expect(GRPCMetadata.decodeBinaryValue(value) == nil)
  }
}
