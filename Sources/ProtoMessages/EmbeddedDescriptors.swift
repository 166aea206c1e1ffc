import SwiftProtobuf

/// Descriptors of the protos in `Protos/`, embedded at generation time so the server can answer
/// reflection requests, and both processes can check their method names, without reading files
/// at run time.
public enum EmbeddedDescriptors {
  /// ``fileDescriptorSet`` decoded.
  public static func decodedFileDescriptorSet() throws -> Google_Protobuf_FileDescriptorSet {
    try Google_Protobuf_FileDescriptorSet(serializedBytes: Self.fileDescriptorSet)
  }
}
