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
    try self.checkClient()
    return try self.opened(
      self.submitRequest(headers.entries, count: headers.count, endStream: endStream),
      endStream: endStream)
  }

  /// Client: ``submitRequest(headers:endStream:)`` with one field more after `headers`, the one
  /// that changes from request to request (`grpc-timeout`), so that a list of the others is
  /// encoded once and used for every request.
  public func submitRequest(
    headers: NGHTTP2HeaderList,
    adding name: StaticString,
    _ value: String,
    endStream: Bool = false
  ) throws(NGHTTP2Error) -> Int32 {
    try self.checkClient()
    var value = value
    let count = headers.count + 1
    // nghttp2 copies the fields on submit: they only have to live for the call.
    let result = withUnsafeTemporaryAllocation(of: nghttp2_nv.self, capacity: count) { entries in
      let entries = entries.baseAddress!
      entries.initialize(from: headers.entries, count: headers.count)
      return value.withUTF8 { valueBytes in
        (entries + headers.count).initialize(
          to: nghttp2_nv(
            name: UnsafeMutablePointer(mutating: name.utf8Start),
            // An empty value may have no address; nghttp2 copies zero bytes from any.
            value: UnsafeMutablePointer(mutating: valueBytes.baseAddress ?? name.utf8Start),
            namelen: name.utf8CodeUnitCount, valuelen: valueBytes.count,
            flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)))
        return self.submitRequest(UnsafePointer(entries), count: count, endStream: endStream)
      }
    }
    return try self.opened(result, endStream: endStream)
  }

  private func checkClient() throws(NGHTTP2Error) {
    guard self.role == .client else {
      throw NGHTTP2Error(
        code: .invalidState,
        message: "submitRequest called on a server session; only clients open streams"
      )
    }
  }

  /// `nghttp2_submit_request`: the new stream's id, or an error code.
  private func submitRequest(
    _ entries: UnsafePointer<nghttp2_nv>, count: Int, endStream: Bool
  ) -> Int32 {
    var provider = Self.outboundDataProvider
    return endStream
      ? nghttp2_submit_request(self.session, nil, entries, count, nil, nil)
      : nghttp2_submit_request(self.session, nil, entries, count, &provider, nil)
  }

  /// Records the stream a submitted request opened, `result` being its id or an error code.
  private func opened(_ result: Int32, endStream: Bool) throws(NGHTTP2Error) -> Int32 {
    try Self.check(Int(result), while: "submitting a request")
    self.streams[result] = NGHTTP2StreamState(provider: endStream ? .finished : .reading)
    return result
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
