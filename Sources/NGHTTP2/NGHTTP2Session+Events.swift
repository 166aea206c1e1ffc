internal import CNGHTTP2

// The Swift side of nghttp2's callbacks: decode, keep per-stream state, tell the delegate.
// Every delegate call happens outside any access to `streams`, because the delegate may submit
// on this session (which mutates `streams`) from inside the event.
extension NGHTTP2Session {
  func beginHeaders(_ frame: UnsafePointer<nghttp2_frame>) {
    guard frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue) else { return }
    switch frame.pointee.headers.cat {
    case NGHTTP2_HCAT_REQUEST:
      self.headerDecoder.begin(.request)
      self.streams[frame.pointee.hd.stream_id] = NGHTTP2StreamState(provider: .none)
    case NGHTTP2_HCAT_RESPONSE:
      self.headerDecoder.begin(.response)
    default:
      // HCAT_HEADERS: any later block. PUSH_PROMISE never comes, as clients disable push.
      self.headerDecoder.begin(.trailers)
    }
  }

  /// False when the block is too large to read on (see ``NGHTTP2HeaderDecoder/append``).
  func appendHeader(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) -> Bool {
    self.headerDecoder.append(name: name, value: value)
  }

  func frameReceived(_ frame: UnsafePointer<nghttp2_frame>) {
    let header = frame.pointee.hd
    let endStream = header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
    switch header.type {
    case UInt8(NGHTTP2_HEADERS.rawValue):
      let block = self.headerDecoder.takeBlock()
      self.delegate?.didReceiveHeaders(
        streamID: header.stream_id, headers: block, endStream: endStream)
      self.headerDecoder.restore(block)
      if endStream {
        self.delegate?.didReceiveEndStream(streamID: header.stream_id)
      }
    case UInt8(NGHTTP2_DATA.rawValue):
      if endStream {
        self.delegate?.didReceiveEndStream(streamID: header.stream_id)
      }
    case UInt8(NGHTTP2_GOAWAY.rawValue):
      self.delegate?.didReceiveGoAway(
        lastStreamID: frame.pointee.goaway.last_stream_id,
        errorCode: HTTP2ErrorCode(rawValue: frame.pointee.goaway.error_code))
    case UInt8(NGHTTP2_SETTINGS.rawValue) where header.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) == 0:
      self.delegate?.didReceiveSettings()
    default:
      break
    }
  }

  /// Releases a stream's state and reports the close, once per stream the session tracked.
  func closeStream(_ streamID: Int32, errorCode: HTTP2ErrorCode) {
    guard let stream = self.streams.removeValue(forKey: streamID) else { return }
    self.queuedBytes -= stream.queuedBytes
    self.delegate?.didCloseStream(
      streamID: streamID, errorCode: errorCode, attachment: stream.attachment)
  }

  /// A request's HEADERS that never left (the server sent GOAWAY first, or the stream ids ran
  /// out) never opened a stream, so on_stream_close may not come: close it here as refused.
  func frameNotSent(_ frame: UnsafePointer<nghttp2_frame>) {
    guard frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue),
      frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST
    else { return }
    self.closeStream(frame.pointee.hd.stream_id, errorCode: .refusedStream)
  }

  func readOutbound(
    streamID: Int32,
    into buffer: UnsafeMutableRawBufferPointer,
    flags: UnsafeMutablePointer<UInt32>
  ) throws(NGHTTP2Error) -> Int {
    guard let read = self.streams.update(streamID, { $0.read(into: buffer) }) else {
      throw NGHTTP2Error(
        code: .sessionFailure,
        message: "nghttp2 asked for body bytes of stream \(streamID), which has no state"
      )
    }
    switch read {
    case .deferred:
      return Int(NGHTTP2_ERR_DEFERRED.rawValue)
    case .bytes(let count):
      self.queuedBytes -= count
      return count
    case .end(let count, .endStream):
      self.queuedBytes -= count
      flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
      return count
    case .end(let count, .trailers(let trailers)):
      self.queuedBytes -= count
      // nghttp2 allows submitting the trailers from inside the read callback; they go out right
      // after this last DATA frame, which must then not carry END_STREAM itself.
      try self.submitTrailerFrame(streamID: streamID, trailers)
      flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue | NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
      return count
    }
  }
}
