internal import CNGHTTP2

/// The one nghttp2 callback table every session is created with.
///
/// `@unchecked Sendable`: the table is filled once in `init` and never written again, and
/// nghttp2 only reads it (it copies the function pointers into each new session), so sharing
/// it between event loops is safe. It lives as long as the process, so it is never freed.
final class NGHTTP2Callbacks: @unchecked Sendable {
  static let shared = NGHTTP2Callbacks()

  let pointer: OpaquePointer

  private init() {
    var callbacks: OpaquePointer?
    precondition(nghttp2_session_callbacks_new(&callbacks) == 0, "nghttp2: out of memory")
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, onBeginHeaders)
    nghttp2_session_callbacks_set_on_header_callback(callbacks, onHeader)
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, onFrameRecv)
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, onDataChunkRecv)
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, onStreamClose)
    nghttp2_session_callbacks_set_on_frame_not_send_callback(callbacks, onFrameNotSend)
    self.pointer = callbacks!
  }
}

/// The one path from a C callback into Swift: recovers the session from `user_data`, runs
/// `body`, and turns a thrown error into `NGHTTP2_ERR_CALLBACK_FAILURE` (kept for the caller of
/// `receive`/`drain` to rethrow), which makes nghttp2 fail the whole session.
@inline(__always)
func withSession(
  _ userData: UnsafeMutableRawPointer?,
  _ body: (NGHTTP2Session) throws(NGHTTP2Error) -> Int
) -> Int {
  guard let userData else { return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue) }
  // The session drives nghttp2 from one of its own methods, so it is alive for the whole
  // callback: a guaranteed reference spares a retain and release per callback (about fifteen
  // per RPC).
  return Unmanaged<NGHTTP2Session>.fromOpaque(userData)._withUnsafeGuaranteedRef { session in
    do throws(NGHTTP2Error) {
      return try body(session)
    } catch {
      session.callbackError = error
      return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue)
    }
  }
}

private let callbackFailure = NGHTTP2_ERR_CALLBACK_FAILURE.rawValue

private func onBeginHeaders(
  _ session: OpaquePointer?,
  _ frame: UnsafePointer<nghttp2_frame>?,
  _ userData: UnsafeMutableRawPointer?
) -> Int32 {
  guard let frame else { return callbackFailure }
  return Int32(
    withSession(userData) { session in
      session.beginHeaders(frame)
      return 0
    })
}

private func onHeader(
  _ session: OpaquePointer?,
  _ frame: UnsafePointer<nghttp2_frame>?,
  _ name: UnsafePointer<UInt8>?,
  _ nameLength: Int,
  _ value: UnsafePointer<UInt8>?,
  _ valueLength: Int,
  _ flags: UInt8,
  _ userData: UnsafeMutableRawPointer?
) -> Int32 {
  guard let name, let value else { return callbackFailure }
  return Int32(
    withSession(userData) { session in
      let keepReading = session.appendHeader(
        name: UnsafeBufferPointer(start: name, count: nameLength),
        value: UnsafeBufferPointer(start: value, count: valueLength))
      // nghttp2 resets the stream (INTERNAL_ERROR) and decodes the rest of the block only to
      // keep its HPACK table, without handing over or checking any more fields.
      return keepReading ? 0 : Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
    })
}

private func onFrameRecv(
  _ session: OpaquePointer?,
  _ frame: UnsafePointer<nghttp2_frame>?,
  _ userData: UnsafeMutableRawPointer?
) -> Int32 {
  guard let frame else { return callbackFailure }
  return Int32(
    withSession(userData) { session in
      session.frameReceived(frame)
      return 0
    })
}

private func onDataChunkRecv(
  _ session: OpaquePointer?,
  _ flags: UInt8,
  _ streamID: Int32,
  _ data: UnsafePointer<UInt8>?,
  _ length: Int,
  _ userData: UnsafeMutableRawPointer?
) -> Int32 {
  guard let data else { return callbackFailure }
  return Int32(
    withSession(userData) { session in
      session.delegate?.didReceiveData(
        streamID: streamID,
        data: session.inboundSlice(UnsafeRawBufferPointer(start: data, count: length)))
      return 0
    })
}

private func onStreamClose(
  _ session: OpaquePointer?,
  _ streamID: Int32,
  _ errorCode: UInt32,
  _ userData: UnsafeMutableRawPointer?
) -> Int32 {
  Int32(
    withSession(userData) { session in
      session.closeStream(streamID, errorCode: HTTP2ErrorCode(rawValue: errorCode))
      return 0
    })
}

private func onFrameNotSend(
  _ session: OpaquePointer?,
  _ frame: UnsafePointer<nghttp2_frame>?,
  _ libraryErrorCode: Int32,
  _ userData: UnsafeMutableRawPointer?
) -> Int32 {
  guard let frame else { return callbackFailure }
  return Int32(
    withSession(userData) { session in
      session.frameNotSent(frame)
      return 0
    })
}

/// The read callback of every data provider: copies queued body bytes into nghttp2's frame
/// buffer. A stream without Swift state here is a bug in the session, so it fails the session.
func readOutboundData(
  _ session: OpaquePointer?,
  _ streamID: Int32,
  _ buffer: UnsafeMutablePointer<UInt8>?,
  _ length: Int,
  _ dataFlags: UnsafeMutablePointer<UInt32>?,
  _ source: UnsafeMutablePointer<nghttp2_data_source>?,
  _ userData: UnsafeMutableRawPointer?
) -> Int {
  guard let buffer, let dataFlags else { return Int(callbackFailure) }
  return withSession(userData) { session throws(NGHTTP2Error) in
    try session.readOutbound(
      streamID: streamID,
      into: UnsafeMutableRawBufferPointer(start: buffer, count: length),
      flags: dataFlags)
  }
}
