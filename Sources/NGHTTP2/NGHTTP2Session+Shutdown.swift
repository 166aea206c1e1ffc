internal import CNGHTTP2

// Graceful shutdown is two GOAWAYs (RFC 9113 §6.8): a notice that stops new streams without
// refusing any the peer already sent, then, one round trip later, the final GOAWAY naming the
// last stream the server will process. Once it is sent and the open streams have finished,
// `wantsRead` and `wantsWrite` both turn false and the handler closes the connection.
extension NGHTTP2Session {
  /// Server: queues the shutdown notice (a GOAWAY with the largest stream id). Clients stop
  /// opening streams; those in flight continue. Follow with ``submitGoAway(errorCode:debugData:)``
  /// after about a round trip (gRPC servers wait for a PING ack or a second).
  ///
  /// - Throws: ``NGHTTP2Error/Code/invalidState`` on a client session, or after a GOAWAY.
  public func beginGracefulShutdown() throws(NGHTTP2Error) {
    let result = nghttp2_submit_shutdown_notice(self.session)
    try Self.check(Int(result), while: "submitting the shutdown notice")
  }

  /// Queues the final GOAWAY, naming the last stream this session processed: streams up to it
  /// run to completion, later ones are refused, none can be opened. `errorCode` 0 is a graceful
  /// close; anything else tells the peer why the connection ends.
  ///
  /// - Throws: ``NGHTTP2Error/Code/invalidState`` if the session is already terminating.
  public func submitGoAway(
    errorCode: HTTP2ErrorCode = .noError, debugData: [UInt8] = []
  ) throws(NGHTTP2Error) {
    let lastStreamID = nghttp2_session_get_last_proc_stream_id(self.session)
    let result = nghttp2_submit_goaway(
      self.session, UInt8(NGHTTP2_FLAG_NONE.rawValue), lastStreamID, errorCode.rawValue,
      debugData, debugData.count)
    try Self.check(Int(result), while: "submitting GOAWAY")
  }
}
