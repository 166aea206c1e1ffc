internal import CNGHTTP2
import NIOCore

/// One HTTP/2 connection's protocol state, on libnghttp2: bytes in, events out to a delegate;
/// submissions in, bytes out.
///
/// The session never touches a socket. The connection handler feeds what it reads to
/// ``receive(_:)``, lets the ``delegate`` react to the events (submitting
/// replies from inside them if it likes), then calls ``drain(into:)`` once per read burst and
/// writes and flushes the result once: `nghttp2_session_mem_send` yields one frame per call, and
/// batching them is what makes the server fast.
///
/// Confined to one event loop; not thread-safe and not `Sendable`.
public final class NGHTTP2Session {
  /// Which end of the connection a session plays.
  public enum Role: Hashable, Sendable {
    /// Accepts streams; sends its SETTINGS first thing.
    case server
    /// Opens streams; sends the connection preface and its SETTINGS first thing.
    case client
  }

  /// Which end of the connection this session plays.
  public let role: Role

  /// Receives the decoded events. The delegate must outlive the session; it is normally the
  /// connection handler that owns it. Held `unowned(unsafe)`, not `weak`: a weak reference gives
  /// the delegate a side table, which turns every retain and release of the connection handler
  /// on the hot path into the runtime's slow path.
  public unowned(unsafe) var delegate: (any NGHTTP2SessionDelegate)?

  /// Set once in `init`; optional only because `self` must exist before nghttp2 can hold it.
  private var sessionPointer: OpaquePointer?

  /// Where nghttp2 allocates from; outlives the session (`deinit` deletes the session first).
  private let memoryPool = NGHTTP2MemoryPool()

  /// Per-stream state, keyed by stream id, released in on_stream_close (and all at once in
  /// deinit, since `nghttp2_session_del` closes no streams through the callback).
  var streams = NGHTTP2StreamMap<NGHTTP2StreamState>()

  /// Collects the header block being decoded. HTTP/2 forbids interleaving header blocks, so one
  /// decoder serves every stream.
  var headerDecoder = NGHTTP2HeaderDecoder()

  /// The Swift error behind a callback's `NGHTTP2_ERR_CALLBACK_FAILURE`, rethrown by the call
  /// that drove nghttp2 into the callback.
  var callbackError: NGHTTP2Error?

  /// The buffer `receive` is feeding to nghttp2 and the address of its readable bytes, while it
  /// runs: DATA payloads point into it.
  private var inbound: (buffer: ByteBuffer, base: UnsafeRawPointer)?

  /// True while nghttp2 runs inside `receive` or `drain`: neither may be re-entered from a
  /// delegate event.
  private var isProcessing = false

  /// Creates a session and queues its opening frames (client preface, SETTINGS, and a
  /// connection WINDOW_UPDATE when `settings` asks for a larger connection window), so the
  /// first ``drain(into:)`` returns them.
  public init(role: Role, settings: NGHTTP2Settings = .defaults) {
    self.role = role
    self.headerDecoder.sizeLimit = settings.maxHeaderListSize

    var options: OpaquePointer?
    precondition(nghttp2_option_new(&options) == 0, "nghttp2_option_new: out of memory")
    defer { nghttp2_option_del(options) }
    // Automatic WINDOW_UPDATEs and nghttp2's HTTP messaging checks stay on (their defaults):
    // gRPC buffers whole messages anyway, and the checks measured free.
    if role == .client {
      nghttp2_option_set_peer_max_concurrent_streams(
        options, UInt32(clamping: settings.peerMaxConcurrentStreams))
    }
    // No RFC 7540 priority tree (gRPC never uses it; SETTINGS_NO_RFC7540_PRIORITIES below tells
    // the peer), and so no closed streams kept around for it: both cost work on every stream.
    nghttp2_option_set_no_closed_streams(options, 1)

    let userData = Unmanaged.passUnretained(self).toOpaque()
    let callbacks = NGHTTP2Callbacks.shared.pointer
    var session: OpaquePointer?
    var allocator = self.memoryPool.table
    let created =
      switch role {
      case .server: nghttp2_session_server_new3(&session, callbacks, userData, options, &allocator)
      case .client: nghttp2_session_client_new3(&session, callbacks, userData, options, &allocator)
      }
    precondition(created == 0, "nghttp2_session_new: out of memory")
    self.sessionPointer = session
    self.submitInitialSettings(settings)
  }

  deinit {
    nghttp2_session_del(self.sessionPointer)
  }

  /// The nghttp2 session; always set after `init`.
  var session: OpaquePointer {
    self.sessionPointer.unsafelyUnwrapped
  }

  /// True while nghttp2 still expects frames from the peer.
  public var wantsRead: Bool {
    nghttp2_session_want_read(self.session) != 0
  }

  /// True while nghttp2 has frames to send. When both this and ``wantsRead`` are false, the
  /// connection is done: close it.
  public var wantsWrite: Bool {
    nghttp2_session_want_write(self.session) != 0
  }

  /// Body bytes queued on every stream and not yet taken by nghttp2: what waits for the next
  /// drain or, when the peer reads slowly, for its flow-control window.
  public internal(set) var queuedBytes = 0

  /// Body bytes queued on `streamID` and not yet taken by nghttp2 (0 for a stream without
  /// state).
  public func queuedBytes(on streamID: Int32) -> Int {
    self.streams.update(streamID) { $0.queuedBytes } ?? 0
  }

  /// How many streams have state in this session (opened and not yet closed).
  public var openStreamCount: Int {
    self.streams.count
  }

  /// Keeps `object` (the delegate's call, say) with the open stream `streamID` until the stream
  /// closes, when ``NGHTTP2SessionDelegate/didCloseStream(streamID:errorCode:attachment:)``
  /// hands it back: the connection needs no stream table of its own. Ignored when the stream
  /// has no state.
  public func attach(_ object: AnyObject, to streamID: Int32) {
    self.streams.update(streamID) { $0.attachment = object }
  }

  /// The object attached to `streamID`, if the stream is open and has one.
  public func attachment(of streamID: Int32) -> AnyObject? {
    self.streams.update(streamID) { $0.attachment } ?? nil
  }

  /// Lets go of the object attached to `streamID` (its call ended early); the stream itself
  /// stays until it closes.
  public func detach(from streamID: Int32) {
    self.streams.update(streamID) { $0.attachment = nil }
  }

  /// The objects attached to the open streams, in no particular order.
  public var attachments: [AnyObject] {
    self.streams.values.compactMap(\.attachment)
  }

  /// Lets go of every stream's object and returns them: the connection is gone and will close
  /// no more streams through the delegate.
  public func detachAll() -> [AnyObject] {
    var attached: [AnyObject] = []
    self.streams.updateAll { stream in
      if let object = stream.attachment.take() { attached.append(object) }
    }
    return attached
  }

  /// True while any stream is open: a graceful shutdown waits for this to turn false.
  public var hasOpenStreams: Bool {
    !self.streams.isEmpty
  }

  /// Feeds the readable bytes of `buffer` (what the connection read) to nghttp2, which calls the
  /// delegate for every event they complete. DATA payloads reach the delegate as slices of
  /// `buffer`, so request bodies are not copied.
  ///
  /// - Throws: ``NGHTTP2Error`` with code ``NGHTTP2Error/Code/protocolViolation`` when the peer
  ///   is not speaking HTTP/2 or floods the session; drain once more (nghttp2 may have queued a
  ///   GOAWAY), write the result and close. Protocol errors that nghttp2 answers with a GOAWAY
  ///   itself do not throw: ``wantsRead`` and ``wantsWrite`` tell the handler when to close.
  public func receive(_ buffer: ByteBuffer) throws(NGHTTP2Error) {
    guard buffer.readableBytes > 0 else { return }
    let result = buffer.withUnsafeReadableBytes { bytes in
      self.inbound = (buffer, UnsafeRawPointer(bytes.baseAddress!))
      defer { self.inbound = nil }
      return Result { () throws(NGHTTP2Error) in
        try self.driveNGHTTP2(while: "processing received bytes") {
          nghttp2_session_mem_recv(
            self.session, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count)
        }
      }
    }
    try result.get()
  }

  /// The DATA payload at `bytes` as a slice of the buffer being received (no copy), or as a copy
  /// when nghttp2 hands out bytes from elsewhere.
  func inboundSlice(_ bytes: UnsafeRawBufferPointer) -> ByteBuffer {
    if let (buffer, base) = self.inbound, let start = bytes.baseAddress, start >= base,
      start + bytes.count <= base + buffer.readableBytes,
      let slice = buffer.getSlice(at: buffer.readerIndex + (start - base), length: bytes.count)
    {
      return slice
    }
    return ByteBuffer(bytes: bytes)
  }

  /// Appends every frame nghttp2 has queued to `buffer`, calling `nghttp2_session_mem_send`
  /// until it has nothing left. Write and flush `buffer` once afterwards.
  ///
  /// Data providers run here, and streams that finish sending close here, so the delegate may
  /// be called (``NGHTTP2SessionDelegate/didCloseStream(streamID:errorCode:attachment:)``).
  public func drain(into buffer: inout ByteBuffer) throws(NGHTTP2Error) {
    try self.driveNGHTTP2(while: "producing frames to send") {
      var total = 0
      while true {
        var chunk: UnsafePointer<UInt8>?
        let count = nghttp2_session_mem_send(self.session, &chunk)
        guard count > 0, let chunk else { return count < 0 ? count : total }
        // The chunk lives only until the next mem_send call: copy it now.
        buffer.writeBytes(UnsafeRawBufferPointer(start: chunk, count: count))
        total += count
      }
    }
  }

  /// Runs a `mem_recv`/`mem_send` step under the re-entrancy guard and turns a negative result
  /// into an error, preferring the Swift error a callback failed with.
  private func driveNGHTTP2(
    while operation: String,
    _ step: () -> Int
  ) throws(NGHTTP2Error) {
    precondition(
      !self.isProcessing,
      "NGHTTP2Session.receive/drain called from inside a delegate event; submit instead"
    )
    self.isProcessing = true
    defer { self.isProcessing = false }
    let result = step()
    guard result < 0 else { return }
    if result == Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue), let error = self.callbackError.take() {
      throw error
    }
    throw NGHTTP2Error(libraryErrorCode: result, while: operation)
  }

  /// Queues SETTINGS (and a connection WINDOW_UPDATE) so they are the first frames sent after
  /// the client preface, which nghttp2 client sessions write themselves.
  private func submitInitialSettings(_ settings: NGHTTP2Settings) {
    var entries = [
      nghttp2_settings_entry(
        settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
        value: UInt32(clamping: settings.maxConcurrentStreams)),
      nghttp2_settings_entry(
        settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
        value: UInt32(clamping: settings.initialWindowSize)),
      nghttp2_settings_entry(
        settings_id: Int32(NGHTTP2_SETTINGS_MAX_FRAME_SIZE.rawValue),
        value: UInt32(clamping: settings.maxFrameSize)),
      nghttp2_settings_entry(
        settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue),
        value: UInt32(clamping: settings.maxHeaderListSize)),
      nghttp2_settings_entry(
        settings_id: Int32(NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES.rawValue), value: 1),
    ]
    if self.role == .client {
      // gRPC has no use for server push; refusing it up front keeps PUSH_PROMISE out entirely.
      entries.append(
        nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0)
      )
    }
    let submitted = nghttp2_submit_settings(
      self.session, UInt8(NGHTTP2_FLAG_NONE.rawValue), entries, entries.count)
    precondition(submitted == 0, "invalid HTTP/2 settings \(settings): \(submitted)")
    if settings.connectionWindowSize > 65_535 {
      let raised = nghttp2_session_set_local_window_size(
        self.session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0,
        Int32(clamping: settings.connectionWindowSize))
      precondition(raised == 0, "invalid connection window size \(settings.connectionWindowSize)")
    }
  }
}

@available(*, unavailable)
extension NGHTTP2Session: Sendable {}
