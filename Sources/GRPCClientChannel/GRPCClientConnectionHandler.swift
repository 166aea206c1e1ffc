import GRPCWire
import Logging
import NGHTTP2
import NIOCore

/// One HTTP/2 connection to a server, on libnghttp2: calls in as streams, responses out to
/// their calls, on the connection's event loop with no task hop.
///
/// Frames submitted while reading leave in one write and flush at the end of the read burst;
/// frames submitted outside one (a new call) leave in one flush at the end of the event-loop
/// tick, so a burst of calls shares a write (``NGHTTP2ChannelIO``, shared with the server).
final class GRPCClientConnectionHandler: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  /// What the connection tells the subchannel that owns it.
  struct Events {
    /// The server's SETTINGS arrived: it speaks HTTP/2, and the connection takes calls.
    var ready: (GRPCClientConnectionHandler) -> Void
    /// The server sent GOAWAY: take no new calls here, open another connection.
    var goingAway: (GRPCClientConnectionHandler) -> Void
    /// The connection is closed.
    var closed: (GRPCClientConnectionHandler) -> Void
    /// The server refused a call's stream without processing it; the call is to go out once
    /// more elsewhere.
    var refused: (ClientCall) -> Void
  }

  let peer: String
  private let logger: Logger
  private let events: Events
  /// Its session's streams carry their calls as attachments: no stream table of its own.
  private let io: NGHTTP2ChannelIO
  /// After GOAWAY (or a shutdown), the connection closes once its last call ends.
  private(set) var isGoingAway = false
  private var hasServerSettings = false
  private var allocator = ByteBufferAllocator()

  init(peer: String, settings: NGHTTP2Settings, logger: Logger, events: Events) {
    self.peer = peer
    self.logger = logger
    self.events = events
    self.io = NGHTTP2ChannelIO(session: NGHTTP2Session(role: .client, settings: settings))
  }

  private var session: NGHTTP2Session { self.io.session }

  // MARK: Calls

  /// Opens a stream for `call` and queues its request; the response completes the call.
  func start(_ call: ClientCall) {
    guard !self.isGoingAway, self.io.context != nil else {
      call.finish(
        GRPCStatus(code: .unavailable, message: "the connection to \(self.peer) is closing"),
        message: nil, peer: self.peer)
      return
    }
    var framed = self.allocator.buffer(
      capacity: GRPCMessageDeframer.prefixLength + call.request.readableBytes)
    GRPCMessageFramer.appendMessage(to: &framed) { $0.writeImmutableBuffer(call.request) }
    do {
      let streamID = try self.session.submitRequest(
        headers: call.method.requestHeaders,
        adding: "grpc-timeout", GRPCTimeout(call.remainingTime).headerValue)
      try self.session.sendData(streamID: streamID, framed, endStream: true)
      self.session.attach(call, to: streamID)
      call.attach(streamID: streamID, connection: self)
    } catch {
      call.finish(
        GRPCStatus(code: .unavailable, message: "cannot start a stream to \(self.peer): \(error)"),
        message: nil, peer: self.peer)
      return
    }
    self.io.outputQueued()
  }

  /// Cancels a stream (RST_STREAM CANCEL); its call has already been finished by the caller.
  func reset(streamID: Int32) {
    self.session.detach(from: streamID)
    do {
      try self.session.resetStream(streamID: streamID, errorCode: .cancel)
    } catch {
      self.logger.debug("RST_STREAM failed", metadata: ["error": "\(error)"])
    }
    self.io.outputQueued()
  }

  /// Takes no more calls and closes once those in flight have ended.
  func closeWhenIdle() {
    self.isGoingAway = true
    self.closeIfDone()
  }

  // MARK: Channel events

  func handlerAdded(context: ChannelHandlerContext) {
    self.allocator = context.channel.allocator
    self.io.attach(to: context, delegate: self)
  }

  func channelActive(context: ChannelHandlerContext) {
    self.io.flush()  // The preface and SETTINGS.
    context.fireChannelActive()
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    self.io.detach()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    do {
      try self.io.read(self.unwrapInboundIn(data))
    } catch {
      self.logger.info(
        "closing the connection to the server after a protocol error",
        metadata: ["peer": "\(self.peer)", "error": "\(error)"])
      self.io.flush()
      context.close(promise: nil)
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    self.io.readComplete()
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    self.io.writabilityChanged()
    context.fireChannelWritabilityChanged()
  }

  func channelInactive(context: ChannelHandlerContext) {
    for call in self.session.detachAll().map(Self.call) {
      call.finish(
        GRPCStatus(code: .unavailable, message: "the connection to \(self.peer) was lost"),
        message: nil, peer: self.peer)
    }
    self.isGoingAway = true
    self.events.closed(self)
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    self.logger.debug(
      "connection error", metadata: ["peer": "\(self.peer)", "error": "\(error)"])
    context.close(promise: nil)
  }

  /// A connection going away closes at the next flush once its last call has ended; events
  /// come from inside nghttp2, where flushing is not allowed, so the flush is queued.
  private func closeIfDone() {
    if self.isGoingAway && !self.session.hasOpenStreams {
      self.io.outputQueued()
    }
  }
}

// MARK: - HTTP/2 events

extension GRPCClientConnectionHandler: NGHTTP2ChannelIODelegate {
  func channelIODidFlush(sessionFinished: Bool) {
    if sessionFinished || (self.isGoingAway && !self.session.hasOpenStreams) {
      self.io.context?.close(promise: nil)
    }
  }

  func channelIODidFail(_ error: NGHTTP2Error) {
    self.logger.info("closing the connection to the server", metadata: ["error": "\(error)"])
    self.io.context?.close(promise: nil)
  }

  func didReceiveHeaders(streamID: Int32, headers: NGHTTP2HeaderBlock, endStream: Bool) {
    self.call(on: streamID)?.reader.receive(headers)
  }

  func didReceiveData(streamID: Int32, data: ByteBuffer) {
    self.call(on: streamID)?.reader.receive(data)
  }

  func didReceiveEndStream(streamID: Int32) {
    // The call ends when the stream closes, which follows in the same read.
  }

  func didCloseStream(streamID: Int32, errorCode: HTTP2ErrorCode, attachment: AnyObject?) {
    guard let attachment else {
      self.closeIfDone()  // A stream whose call was reset.
      return
    }
    let call = Self.call(attachment)
    if call.takeRetry(afterClose: errorCode) {
      self.events.refused(call)
    } else {
      call.streamClosed(errorCode: errorCode, peer: self.peer)
    }
    self.closeIfDone()
  }

  func didReceiveGoAway(lastStreamID: Int32, errorCode: HTTP2ErrorCode) {
    guard !self.isGoingAway else { return }
    self.isGoingAway = true
    self.events.goingAway(self)
  }

  func didReceiveSettings() {
    guard !self.hasServerSettings else { return }
    self.hasServerSettings = true
    self.events.ready(self)
  }

  /// The call on an open stream.
  private func call(on streamID: Int32) -> ClientCall? {
    self.session.attachment(of: streamID).map(Self.call)
  }

  /// A stream's attachment as the call it is: only calls are attached to this session's streams.
  private static func call(_ attachment: AnyObject) -> ClientCall {
    unsafeDowncast(attachment, to: ClientCall.self)
  }
}

@available(*, unavailable)
extension GRPCClientConnectionHandler: Sendable {}
