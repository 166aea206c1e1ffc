/// The HTTP/2 error codes (RFC 9113 §7) the runtime acts on, as RST_STREAM and GOAWAY carry them
/// and as ``NGHTTP2SessionDelegate`` reports them.
package enum HTTP2ErrorCode {
  /// NO_ERROR: the stream or connection ended normally.
  package static let noError: UInt32 = 0
  /// REFUSED_STREAM: the server did not process the stream; it is safe to send it again.
  package static let refusedStream: UInt32 = 7
  /// CANCEL: the endpoint no longer wants the stream.
  package static let cancel: UInt32 = 8
}
