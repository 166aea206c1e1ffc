import NIOCore

/// What the session keeps for one open stream: the outbound body and how the stream ends.
///
/// A value-type state machine so the rules (no data after the end, trailers after the queued
/// data, when nghttp2 needs resuming) are checked without nghttp2 in the loop.
struct NGHTTP2StreamState {
  /// Where the stream's nghttp2 data provider stands.
  enum Provider: Equatable {
    /// No provider attached: response headers not submitted yet.
    case none
    /// Attached; nghttp2 calls the read callback when the flow-control window allows.
    case reading
    /// The read callback returned `NGHTTP2_ERR_DEFERRED`: nghttp2 waits for a resume.
    case deferred
    /// The local side is finished (EOF returned, or the headers ended the stream).
    case finished
  }

  /// What the read callback does when `pending` runs dry.
  enum Ending {
    /// End the stream with the last DATA frame.
    case endStream
    /// End the data without END_STREAM, then submit these trailers (which carry END_STREAM).
    case trailers(NGHTTP2HeaderList)
  }

  /// The outcome of one read callback.
  enum Read {
    /// Nothing to send yet: return `NGHTTP2_ERR_DEFERRED`.
    case deferred
    /// This many bytes were copied; more may follow.
    case bytes(Int)
    /// This many bytes were copied and the body is complete.
    case end(Int, Ending)
  }

  private(set) var provider: Provider
  private var pending: ByteBuffer?
  private var ending: Ending?
  /// The delegate's object for this stream (its call), so a connection keeps one stream table.
  var attachment: AnyObject?

  init(provider: Provider) {
    self.provider = provider
  }

  /// Body bytes queued and not yet taken by nghttp2 (waiting for the next drain or for the
  /// peer's flow-control window).
  var queuedBytes: Int {
    self.pending?.readableBytes ?? 0
  }

  /// Records that headers were submitted: with `endStream` the stream is finished, otherwise a
  /// data provider is now attached.
  mutating func headersSubmitted(endStream: Bool) throws(NGHTTP2Error) {
    guard self.provider == .none else {
      throw NGHTTP2Error(
        code: .invalidState,
        message: "headers were already submitted on this stream; send data or trailers instead"
      )
    }
    self.provider = endStream ? .finished : .reading
  }

  /// Queues body bytes (and optionally the end of the stream); returns true when nghttp2 must be
  /// resumed to pick them up.
  mutating func enqueue(_ data: ByteBuffer, endStream: Bool) throws(NGHTTP2Error) -> Bool {
    try self.checkOpenForOutput(what: "data")
    if self.pending == nil {
      // Adopting the caller's buffer costs no copy; only a second chunk is copied behind it.
      self.pending = data
    } else {
      self.pending!.writeImmutableBuffer(data)
    }
    if endStream {
      self.ending = .endStream
    }
    return self.takeResume()
  }

  /// Queues trailers behind the pending data; returns true when nghttp2 must be resumed.
  mutating func enqueueTrailers(_ trailers: NGHTTP2HeaderList) throws(NGHTTP2Error) -> Bool {
    try self.checkOpenForOutput(what: "trailers")
    self.ending = .trailers(trailers)
    return self.takeResume()
  }

  /// Serves nghttp2's read callback: copies up to `buffer.count` queued bytes into `buffer`.
  mutating func read(into buffer: UnsafeMutableRawBufferPointer) -> Read {
    var copied = 0
    if var pending = self.pending.take() {
      copied = min(buffer.count, pending.readableBytes)
      if copied > 0 {
        pending.withUnsafeReadableBytes { source in
          buffer.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: copied)
        }
        pending.moveReaderIndex(forwardBy: copied)
      }
      if pending.readableBytes > 0 {
        self.pending = pending
        return .bytes(copied)
      }
    }
    if let ending = self.ending {
      self.provider = .finished
      self.ending = nil
      return .end(copied, ending)
    }
    if copied > 0 {
      return .bytes(copied)
    }
    self.provider = .deferred
    return .deferred
  }

  private func checkOpenForOutput(what: String) throws(NGHTTP2Error) {
    switch self.provider {
    case .none:
      throw NGHTTP2Error(
        code: .invalidState,
        message: "\(what) submitted before the headers; submit the headers first"
          + " (a trailers-only response is headers with endStream: true)"
      )
    case .finished:
      throw NGHTTP2Error(
        code: .invalidState,
        message: "\(what) submitted after the end of the stream; the stream is already finished"
      )
    case .reading, .deferred:
      guard self.ending == nil else {
        throw NGHTTP2Error(
          code: .invalidState,
          message: "\(what) submitted after the end of the stream was queued"
        )
      }
    }
  }

  private mutating func takeResume() -> Bool {
    guard self.provider == .deferred else { return false }
    self.provider = .reading
    return true
  }
}
