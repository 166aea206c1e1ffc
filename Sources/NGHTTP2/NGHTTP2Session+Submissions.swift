internal import CNGHTTP2
import NIOCore

// Submissions queue frames in nghttp2; nothing is written until the next `drain(into:)`. All of
// them may be called from inside delegate events.
extension NGHTTP2Session {
  /// Server: queues the response HEADERS for `streamID`. With `endStream` the headers end the
  /// stream (a trailers-only response, as gRPC sends for an immediate error); otherwise the body
  /// follows through ``sendData(streamID:_:endStream:)`` and ``sendTrailers(streamID:headers:)``.
  ///
  /// - Throws: ``NGHTTP2Error/Code/streamClosed`` if the stream is gone (drop the response);
  ///   ``NGHTTP2Error/Code/invalidState`` if headers were already submitted.
  public func submitResponseHeaders(
    streamID: Int32,
    headers: NGHTTP2HeaderList,
    endStream: Bool
  ) throws(NGHTTP2Error) {
    try self.updateStream(streamID) { (stream) throws(NGHTTP2Error) in
      try stream.headersSubmitted(endStream: endStream)
    }
    var provider = Self.outboundDataProvider
    // Without a data provider nghttp2 sets END_STREAM on the HEADERS frame.
    let result =
      endStream
      ? nghttp2_submit_response(self.session, streamID, headers.entries, headers.count, nil)
      : nghttp2_submit_response(self.session, streamID, headers.entries, headers.count, &provider)
    try Self.check(Int(result), while: "submitting response headers on stream \(streamID)")
  }

  /// Client: queues a request's HEADERS and returns the new stream's id. Unless `endStream` is
  /// true, the body follows through ``sendData(streamID:_:endStream:)``, and the response
  /// arrives through the delegate.
  ///
  /// - Throws: ``NGHTTP2Error/Code/invalidState`` on a server session, or when the connection
  ///   has run out of stream ids (open a new connection).
  public func submitRequest(
    headers: NGHTTP2HeaderList,
    endStream: Bool = false
  ) throws(NGHTTP2Error) -> Int32 {
    guard self.role == .client else {
      throw NGHTTP2Error(
        code: .invalidState,
        message: "submitRequest called on a server session; only clients open streams"
      )
    }
    var provider = Self.outboundDataProvider
    let streamID =
      endStream
      ? nghttp2_submit_request(self.session, nil, headers.entries, headers.count, nil, nil)
      : nghttp2_submit_request(
        self.session, nil, headers.entries, headers.count, &provider, nil)
    try Self.check(Int(streamID), while: "submitting a request")
    self.streams[streamID] = NGHTTP2StreamState(provider: endStream ? .finished : .reading)
    return streamID
  }

  /// Queues body bytes for `streamID`, behind any still queued; with `endStream` the stream ends
  /// after them. `data` is kept until nghttp2 has copied it into frames (as flow control allows)
  /// and is not copied when nothing else is queued.
  ///
  /// - Throws: ``NGHTTP2Error/Code/streamClosed`` if the stream is gone (drop the data);
  ///   ``NGHTTP2Error/Code/invalidState`` before the headers or after the end of the stream.
  public func sendData(streamID: Int32, _ data: ByteBuffer, endStream: Bool) throws(NGHTTP2Error) {
    let resume = try self.updateStream(streamID) { (stream) throws(NGHTTP2Error) in
      try stream.enqueue(data, endStream: endStream)
    }
    self.queuedBytes += data.readableBytes
    if resume {
      try self.resumeData(streamID: streamID)
    }
  }

  /// Queues trailers that end `streamID` once its queued body bytes are sent (gRPC's status).
  ///
  /// - Throws: ``NGHTTP2Error/Code/streamClosed`` if the stream is gone;
  ///   ``NGHTTP2Error/Code/invalidState`` before the headers (use
  ///   ``submitResponseHeaders(streamID:headers:endStream:)`` with `endStream: true` for a
  ///   trailers-only response) or after the end of the stream.
  public func sendTrailers(streamID: Int32, headers: NGHTTP2HeaderList) throws(NGHTTP2Error) {
    let resume = try self.updateStream(streamID) { (stream) throws(NGHTTP2Error) in
      try stream.enqueueTrailers(headers)
    }
    if resume {
      try self.resumeData(streamID: streamID)
    }
  }

  /// Queues a RST_STREAM for `streamID` with an HTTP/2 error code (8 is CANCEL). The stream's
  /// state is released, and the delegate told, when nghttp2 closes it.
  ///
  /// - Throws: ``NGHTTP2Error/Code/invalidState`` for stream id 0.
  public func resetStream(streamID: Int32, errorCode: HTTP2ErrorCode) throws(NGHTTP2Error) {
    let result = nghttp2_submit_rst_stream(
      self.session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, errorCode.rawValue)
    try Self.check(Int(result), while: "resetting stream \(streamID)")
  }

  /// Queues a PING. nghttp2 answers the peer's PINGs by itself; this is for keepalive: any
  /// bytes the peer sends afterwards (its ACK at the latest) show the connection is alive.
  public func submitPing() throws(NGHTTP2Error) {
    let result = nghttp2_submit_ping(self.session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil)
    try Self.check(Int(result), while: "submitting PING")
  }

  /// Submits trailers as the final HEADERS of a stream; called from the read callback once the
  /// body is out.
  func submitTrailerFrame(
    streamID: Int32,
    _ trailers: NGHTTP2HeaderList
  ) throws(NGHTTP2Error) {
    let result = nghttp2_submit_trailer(self.session, streamID, trailers.entries, trailers.count)
    try Self.check(Int(result), while: "submitting trailers on stream \(streamID)")
  }

  /// The data provider every body goes through: no per-stream source, since the read callback
  /// finds the stream's queue by stream id.
  private static var outboundDataProvider: nghttp2_data_provider {
    nghttp2_data_provider(source: nghttp2_data_source(ptr: nil), read_callback: readOutboundData)
  }

  private func updateStream<Result>(
    _ streamID: Int32,
    _ body: (inout NGHTTP2StreamState) throws(NGHTTP2Error) -> Result
  ) throws(NGHTTP2Error) -> Result {
    guard let result = try self.streams.update(streamID, body) else {
      throw NGHTTP2Error(
        code: .streamClosed,
        message: "stream \(streamID) is not open (closed, reset by the peer, or never opened);"
          + " drop the submission"
      )
    }
    return result
  }

  /// Wakes a data provider whose read callback returned `NGHTTP2_ERR_DEFERRED`.
  private func resumeData(streamID: Int32) throws(NGHTTP2Error) {
    let result = nghttp2_session_resume_data(self.session, streamID)
    try Self.check(Int(result), while: "resuming the body of stream \(streamID)")
  }

  /// Throws for a negative nghttp2 result. `operation` is an autoclosure so the success path
  /// (every submission) does not pay for building the message.
  static func check(
    _ result: Int,
    while operation: @autoclosure () -> String
  ) throws(NGHTTP2Error) {
    if result < 0 {
      throw NGHTTP2Error(libraryErrorCode: result, while: operation())
    }
  }
}
