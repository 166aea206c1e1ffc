import NIOCore

/// What an ``NGHTTP2ChannelIO`` tells the channel handler that owns it, besides the session's
/// own events.
package protocol NGHTTP2ChannelIODelegate: NGHTTP2SessionDelegate {
  /// A flush ended (with or without frames to write). `sessionFinished` is true once nghttp2
  /// wants neither to read nor to write: both sides are done with the connection.
  func channelIODidFlush(sessionFinished: Bool)

  /// nghttp2 could not produce its frames: the connection cannot go on.
  func channelIODidFail(_ error: NGHTTP2Error)
}

/// The socket side of an HTTP/2 connection on libnghttp2, shared by the server's and the
/// client's channel handlers.
///
/// What one read burst brings goes to the session, and the frames the session queues meanwhile
/// leave in one write and one flush when the burst ends (``readComplete()``). Frames queued
/// outside a read burst (a timer, a new call, a reply from another task) leave in one flush later
/// in the same event-loop tick, so a burst of them shares a write. While the socket is full the
/// frames wait in nghttp2, and the replies in their streams, until the channel is writable again.
package final class NGHTTP2ChannelIO {
  /// The connection's HTTP/2 state.
  package let session: NGHTTP2Session
  /// The owning handler's context, while it is in a pipeline.
  package private(set) var context: ChannelHandlerContext?
  /// The owning handler: it outlives the driver's use of it, since it detaches the driver when
  /// it leaves the pipeline, and a plain pointer costs no reference counting per flush.
  private unowned(unsafe) var delegate: (any NGHTTP2ChannelIODelegate)?
  private var output = NGHTTP2OutputBuffer(allocator: ByteBufferAllocator())
  /// True while bytes from the socket are being processed; output waits for the burst's end.
  private var isReading = false
  /// True when output is pending outside a read burst and a flush is already scheduled.
  private var flushScheduled = false
  /// The channel's writability as last reported (kept here: asking the channel on every flush
  /// costs reference counting on the hot path).
  private var isWritable = true
  /// Set once the handler has shut its side of the socket: nothing is written after that.
  private var isStopped = false

  /// A driver for a session created for this connection.
  package init(session: NGHTTP2Session) {
    self.session = session
  }

  /// Binds the driver to its handler's context when the handler joins the pipeline; the
  /// delegate gets the session's events too.
  package func attach(to context: ChannelHandlerContext, delegate: any NGHTTP2ChannelIODelegate) {
    self.context = context
    self.delegate = delegate
    self.session.delegate = delegate
    self.output = NGHTTP2OutputBuffer(allocator: context.channel.allocator)
  }

  /// Unbinds the driver when its handler leaves the pipeline; a flush already scheduled then
  /// does nothing.
  package func detach() {
    self.context = nil
    self.delegate = nil
  }

  /// Hands bytes read from the socket to the session. Frames it queues in reply wait for
  /// ``readComplete()``; when this throws, the burst is over and the caller decides whether to
  /// flush what is queued (a GOAWAY that says why) before closing.
  package func read(_ bytes: ByteBuffer) throws(NGHTTP2Error) {
    self.isReading = true
    do {
      try self.session.receive(bytes)
    } catch {
      self.isReading = false
      throw error
    }
  }

  /// The read burst is over: everything queued during it leaves in one write.
  package func readComplete() {
    self.isReading = false
    self.flush()
  }

  /// The socket took what was waiting (or filled up): frames nghttp2 kept meanwhile can go now.
  package func writabilityChanged() {
    guard let context = self.context else { return }
    self.isWritable = context.channel.isWritable
    if self.isWritable { self.flush() }
  }

  /// Frames were queued on the session outside a read burst: they leave in one flush, soon.
  package func outputQueued() {
    guard !self.isReading, !self.flushScheduled, let context = self.context else { return }
    self.flushScheduled = true
    let driver = NIOLoopBound(self, eventLoop: context.eventLoop)
    context.eventLoop.execute {
      driver.value.flushScheduled = false
      driver.value.flush()
    }
  }

  /// Nothing more is written (the handler is shutting its side of the socket).
  package func stopWriting() {
    self.isStopped = true
  }

  /// Writes everything nghttp2 has queued, in one buffer and one flush, unless the socket is
  /// full or writing has stopped; then tells the delegate.
  package func flush() {
    guard let context = self.context, self.isWritable, !self.isStopped else { return }
    do {
      if let frames = try self.output.drain(self.session) {
        context.writeAndFlush(NIOAny(frames), promise: nil)
      }
    } catch {
      self.delegate?.channelIODidFail(error)
      return
    }
    self.delegate?.channelIODidFlush(
      sessionFinished: !self.session.wantsRead && !self.session.wantsWrite)
  }
}

@available(*, unavailable)
extension NGHTTP2ChannelIO: Sendable {}
