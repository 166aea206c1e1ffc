/// The HTTP/2 error codes (RFC 9113 §7) the runtime acts on, as RST_STREAM and GOAWAY carry them
/// and as ``NGHTTP2SessionDelegate`` reports them.
public enum HTTP2ErrorCode {
  /// NO_ERROR: the stream or connection ended normally.
  public static let noError: UInt32 = 0
  /// REFUSED_STREAM: the server did not process the stream; it is safe to send it again.
  public static let refusedStream: UInt32 = 7
  /// CANCEL: the endpoint no longer wants the stream.
  public static let cancel: UInt32 = 8
}
