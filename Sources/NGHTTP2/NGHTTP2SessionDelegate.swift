import NIOCore

/// Receives the events an ``NGHTTP2Session`` decodes, synchronously, from inside
/// `receive(_:)` and `drain(into:)`.
///
/// Methods may submit (headers, data, trailers, resets, GOAWAY) on the same session, but must
/// not call `receive` or `drain` from inside an event: the session traps if they do.
public protocol NGHTTP2SessionDelegate: AnyObject {
  /// A complete header block arrived on `streamID`. `endStream` is true when the block also ends
  /// the peer's side of the stream (trailers, or a trailers-only response);
  /// ``didReceiveEndStream(streamID:)`` follows in that case.
  func didReceiveHeaders(streamID: Int32, headers: NGHTTP2HeaderBlock, endStream: Bool)

  /// Body bytes arrived on `streamID`: a slice of the buffer passed to `receive`, not a copy.
  func didReceiveData(streamID: Int32, data: ByteBuffer)

  /// The peer finished its side of `streamID`; called once, after that stream's last headers or
  /// data.
  func didReceiveEndStream(streamID: Int32)

  /// `streamID` is closed and its state released. `errorCode` is `.noError` for a normal close,
  /// otherwise the code of a RST_STREAM (`.cancel`, say) or of the failure that closed it
  /// (`.refusedStream` for requests the server never processed). It can come for a stream whose
  /// headers were never delivered, when nghttp2 rejected them as malformed HTTP: ignore those.
  /// `attachment` is what ``NGHTTP2Session/attach(_:to:)`` kept with the stream, if anything.
  func didCloseStream(streamID: Int32, errorCode: HTTP2ErrorCode, attachment: AnyObject?)

  /// The peer sent GOAWAY: streams above `lastStreamID` will not be processed (they are closed
  /// with REFUSED_STREAM), and no new streams should be started. `errorCode` `.noError` is a
  /// graceful shutdown.
  func didReceiveGoAway(lastStreamID: Int32, errorCode: HTTP2ErrorCode)

  /// The peer sent its SETTINGS (not an acknowledgement of ours). The first one is the peer's
  /// half of the connection preface: until it arrives, the peer has not shown it speaks HTTP/2.
  func didReceiveSettings()
}
