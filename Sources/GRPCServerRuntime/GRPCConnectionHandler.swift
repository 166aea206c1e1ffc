import GRPCPrometheus
import GRPCWire
import Logging
import NGHTTP2
import NIOCore

/// Serves gRPC on one HTTP/2 connection: bytes in, through libnghttp2, into calls; replies out.
///
/// Everything runs on the connection's event loop with no task hop: a synchronous handler's reply
/// is queued while the request's bytes are processed, and all frames produced by one read burst
/// leave in one write and one flush (`channelReadComplete`).
final class GRPCConnectionHandler: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  private let router: RPCRouter
  private let configuration: ServerRuntimeConfiguration
  private let logger: Logger
  private let session: NGHTTP2Session
  /// Set while the handler is in a pipeline.
  private var context: ChannelHandlerContext?
  private var calls = NGHTTP2StreamMap<ServerCall>()
  /// Calls waiting, through ``ServerCall/whenReady(_:)``, for their unread replies to drain.
  private var callsAwaitingReady: [ServerCall] = []
  /// True while bytes from the socket are being processed; output is flushed at the end.
  private var isReading = false
  /// True when output is pending outside a read burst and a flush is already scheduled.
  private var flushScheduled = false
  /// The channel's writability as last reported (kept here: asking the channel on every flush
  /// costs reference counting on the hot path).
  private var isWritable = true
  private var isQuiescing = false
  /// Set once the connection is expected to end: a GOAWAY said on purpose (by the client, our
  /// drain or our idle timeout) or an error already logged. A connection nghttp2 ends without
  /// one of these was ended for breaking the protocol or its limits, which is worth a log line.
  private var isEndExpected = false
  private var lastRoute: (path: String, route: RPCRouter.Route)?
  /// The metadata of the last request, handed to the next one if it repeats it.
  private var lastMetadata: [(name: String, value: String)] = []
  /// When bytes last arrived; keepalive pings only a silent client, and only a silent
  /// connection counts as idle. It is also when a call starts: the read that brought its
  /// headers (one clock reading per read instead of one per call).
  private var lastRead = NIODeadline.now()
  private var keepalive: RepeatedTask?
  /// Looks for idleness once per idle timeout (see `checkIdle`): cheaper than an
  /// `IdleStateHandler`, which every read, write and flush would pass through.
  private var idleCheck: Scheduled<Void>?
  private var output = NGHTTP2OutputBuffer(allocator: ByteBufferAllocator())
  /// The connection's one deadline timer and when it fires (see `armDeadlineTimer`).
  private var deadlineTimer: (deadline: NIODeadline, task: Scheduled<Void>)?
  /// Set once our side of the socket is shut (see `closeAfterLingering`): since when, and the
  /// timer that closes the socket after a silence if the client does not close its side first.
  private var linger: (since: NIODeadline, timer: Scheduled<Void>)?

  private(set) var allocator = ByteBufferAllocator()
  /// The response headers of a call without metadata or compression, built once per connection
  /// and shared by its calls, so the common case allocates nothing.
  let plainResponseHeaders: NGHTTP2HeaderList

  init(router: RPCRouter, configuration: ServerRuntimeConfiguration, logger: Logger) {
    self.router = router
    self.configuration = configuration
    self.logger = logger
    self.session = NGHTTP2Session(role: .server, settings: configuration.http2Settings)
    self.plainResponseHeaders = [
      (":status", "200"),
      ("content-type", GRPCContentType.responseHeaderValue),
      ("grpc-accept-encoding", configuration.messageEncodings.headerValue),
    ]
  }

  // MARK: Channel events

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
    self.allocator = context.channel.allocator
    self.session.delegate = self
    self.output = NGHTTP2OutputBuffer(allocator: context.channel.allocator)
    self.flush()  // The server's SETTINGS go out at once; some clients wait for them.
    self.scheduleIdleCheck(at: .now() + self.configuration.idleTimeout)
    if let interval = self.configuration.keepaliveInterval {
      let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
      self.keepalive = context.eventLoop.scheduleRepeatedTask(
        initialDelay: interval, delay: interval
      ) { _ in handler.value.checkKeepalive(interval: interval) }
    }
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    self.keepalive?.cancel()
    self.keepalive = nil
    self.idleCheck?.cancel()
    self.idleCheck = nil
    self.deadlineTimer?.task.cancel()
    self.deadlineTimer = nil
    self.linger?.timer.cancel()
    self.linger = nil
    self.cancelAllCalls()
    self.context = nil
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard self.linger == nil else {
      self.lingerOn(context: context)
      return
    }
    let buffer = self.unwrapInboundIn(data)
    self.lastRead = .now()
    self.isReading = true
    do {
      try self.session.receive(buffer)
    } catch {
      self.logger.info(
        "closing HTTP/2 connection after a protocol error",
        metadata: ["peer": "\(Self.peer(of: context))", "error": "\(error)"])
      self.isEndExpected = true
      self.isReading = false
      self.flush()
      self.closeAfterLingering(context: context)
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    self.isReading = false
    self.flush()
  }

  func channelInactive(context: ChannelHandlerContext) {
    self.cancelAllCalls()
    context.fireChannelInactive()
  }

  /// The socket took what was waiting: frames nghttp2 kept while it was full can go now.
  func channelWritabilityChanged(context: ChannelHandlerContext) {
    self.isWritable = context.channel.isWritable
    if self.isWritable { self.flush() }
    context.fireChannelWritabilityChanged()
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    switch event {
    case is ChannelShouldQuiesceEvent:
      self.beginGracefulShutdown(context: context)
    default:
      context.fireUserInboundEventTriggered(event)
    }
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    self.logger.info("HTTP/2 connection error", metadata: ["error": "\(error)"])
    context.close(promise: nil)
  }

  // MARK: Output

  /// Writes everything nghttp2 has queued, in one buffer and one flush, unless the socket is
  /// full: then the frames wait in nghttp2 (and the replies in their streams, where calls see
  /// them through ``ServerCall/isReady``) until `channelWritabilityChanged`.
  private func flush() {
    guard let context = self.context, self.isWritable, self.linger == nil else { return }
    do {
      if let frames = try self.output.drain(self.session) {
        context.writeAndFlush(self.wrapOutboundOut(frames), promise: nil)
      }
    } catch {
      self.logger.info("closing HTTP/2 connection", metadata: ["error": "\(error)"])
      context.close(promise: nil)
      return
    }
    if !self.session.wantsRead && !self.session.wantsWrite {
      if !self.isEndExpected {
        // nghttp2 answered a protocol violation or a flood (such as streams reset faster than
        // its limit allows) with GOAWAY by itself.
        self.logger.info(
          "closing HTTP/2 connection: the client broke the protocol or its limits",
          metadata: ["peer": "\(Self.peer(of: context))"])
      }
      self.closeAfterLingering(context: context)
    }
    if !self.callsAwaitingReady.isEmpty { self.resumeReadyCalls() }
  }

  /// Ends a connection nghttp2 is done with: FIN after the last frames, then the client's bytes
  /// are read and dropped until it closes its side too, or goes quiet for ``lingerSilence``.
  /// Closing the socket outright while the client still sends (the WINDOW_UPDATEs of a long
  /// reply it is still reading, a request racing the GOAWAY) would make the kernel answer with a
  /// reset, and a reset destroys what the client has not read yet: the end of that reply, or the
  /// GOAWAY that says why.
  private func closeAfterLingering(context: ChannelHandlerContext) {
    guard self.linger == nil else { return }
    let channel = context.channel
    context.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
    self.linger = (.now(), self.scheduleLingerEnd(context: context))
  }

  /// Bytes arrived while lingering: they are dropped, and the socket waits for another silence,
  /// up to ``lingerLimit`` after it began.
  private func lingerOn(context: ChannelHandlerContext) {
    guard let linger = self.linger, .now() - linger.since < Self.lingerLimit else { return }
    linger.timer.cancel()
    self.linger = (linger.since, self.scheduleLingerEnd(context: context))
  }

  private func scheduleLingerEnd(context: ChannelHandlerContext) -> Scheduled<Void> {
    let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
    return context.eventLoop.scheduleTask(in: Self.lingerSilence) {
      handler.value.context?.close(promise: nil)
    }
  }

  /// How long a closing connection waits for the client's next bytes (an idle client that never
  /// notices the FIN costs no more than this, at shutdown too).
  static let lingerSilence = TimeAmount.milliseconds(500)
  /// The longest a closing connection waits for a client that keeps sending.
  static let lingerLimit = TimeAmount.seconds(5)

  /// Runs the ``ServerCall/whenReady(_:)`` handlers of calls whose replies have drained; what
  /// they send goes out with the next flush, scheduled by `outputQueued`.
  private func resumeReadyCalls() {
    var waiting: [ServerCall] = []
    swap(&waiting, &self.callsAwaitingReady)
    for call in waiting where !call.isFinished {
      if call.isReady {
        call.runReadyHandler()
      } else {
        self.callsAwaitingReady.append(call)
      }
    }
  }

  /// GOAWAY in two steps (RFC 9113 §6.8): a notice now, so clients open no new streams, and the
  /// final GOAWAY a second later, once streams already in flight to us have arrived. The
  /// connection closes when the last RPC finishes.
  private func beginGracefulShutdown(context: ChannelHandlerContext) {
    guard !self.isQuiescing else { return }
    self.isQuiescing = true
    self.isEndExpected = true
    do {
      try self.session.beginGracefulShutdown()
    } catch {
      self.submissionFailed(error)
    }
    self.flush()
    let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
    context.eventLoop.scheduleTask(in: .seconds(1)) {
      let handler = handler.value
      guard handler.context != nil else { return }
      handler.sendGoAway()
    }
  }

  /// Sends GOAWAY (closing the connection) when no call is open and nothing has arrived for the
  /// idle timeout; otherwise looks again when that could next be true.
  private func checkIdle() {
    guard self.context != nil else { return }
    let timeout = self.configuration.idleTimeout
    let silentUntil = self.lastRead + timeout
    let now = NIODeadline.now()
    if self.calls.isEmpty && now >= silentUntil {
      self.logger.debug("closing idle HTTP/2 connection")
      self.isEndExpected = true
      self.sendGoAway()
    } else {
      self.scheduleIdleCheck(at: self.calls.isEmpty ? silentUntil : now + timeout)
    }
  }

  private func scheduleIdleCheck(at deadline: NIODeadline) {
    guard let context = self.context else { return }
    let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
    self.idleCheck = context.eventLoop.scheduleTask(deadline: deadline) {
      handler.value.checkIdle()
    }
  }

  /// Pings a client that has been silent for a whole interval, and closes the connection if the
  /// client stays silent for the keepalive timeout after that.
  private func checkKeepalive(interval: TimeAmount) {
    guard let context = self.context, NIODeadline.now() - self.lastRead >= interval else { return }
    do {
      try self.session.submitPing()
    } catch {
      self.submissionFailed(error)
    }
    self.flush()
    let pinged = NIODeadline.now()
    let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
    context.eventLoop.scheduleTask(in: self.configuration.keepaliveTimeout) {
      let handler = handler.value
      guard let context = handler.context, handler.lastRead < pinged else { return }
      handler.logger.info(
        "closing HTTP/2 connection: keepalive PING not answered",
        metadata: ["peer": "\(Self.peer(of: context))"])
      context.close(promise: nil)
    }
  }

  /// The client's address for log lines.
  private static func peer(of context: ChannelHandlerContext) -> String {
    context.remoteAddress.map { "\($0)" } ?? "?"
  }

  /// Sends the final GOAWAY now: the connection closes once its open streams have finished.
  private func sendGoAway() {
    do {
      try self.session.submitGoAway()
    } catch {
      self.submissionFailed(error)
    }
    self.flush()
  }

  /// A submission that failed (its stream was reset meanwhile) only costs a log line. Callers
  /// use `do`/`catch` around the session call rather than a closure helper: a closure's captures
  /// are retained and released around every call, four times per RPC.
  private func submissionFailed(_ error: NGHTTP2Error) {
    self.logger.debug("HTTP/2 submission failed", metadata: ["error": "\(error)"])
  }

  /// Output produced outside a read burst (timers, other event-loop work) is flushed once, soon.
  private func outputQueued() {
    guard !self.isReading, !self.flushScheduled, let context = self.context else { return }
    self.flushScheduled = true
    let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
    context.eventLoop.execute {
      handler.value.flushScheduled = false
      handler.value.flush()
    }
  }

  // MARK: Calls sending (used by ServerCall)

  /// Response bytes of every call on this connection that the client has not taken yet.
  var queuedResponseBytes: Int { self.session.queuedBytes }

  /// The most unread response bytes the connection holds (the configuration's).
  var maxQueuedResponseBytes: Int { self.configuration.maxQueuedResponseBytes }

  /// Response bytes of `call` that the client has not taken yet.
  func queuedResponseBytes(of call: ServerCall) -> Int {
    self.session.queuedBytes(on: call.streamID)
  }

  /// Remembers a call that waits for its replies to drain (see ``ServerCall/whenReady(_:)``);
  /// the next flush, made sure of here, looks at it.
  func awaitReady(_ call: ServerCall) {
    self.callsAwaitingReady.append(call)
    self.outputQueued()
  }

  func sendHeaders(_ headers: NGHTTP2HeaderList, on call: ServerCall) {
    do {
      try self.session.submitResponseHeaders(
        streamID: call.streamID, headers: headers, endStream: false)
    } catch {
      self.submissionFailed(error)
    }
    self.outputQueued()
  }

  func sendData(_ framed: ByteBuffer, on call: ServerCall) {
    do {
      try self.session.sendData(streamID: call.streamID, framed, endStream: false)
    } catch {
      self.submissionFailed(error)
    }
    self.outputQueued()
  }

  func sendTrailers(_ trailers: NGHTTP2HeaderList, on call: ServerCall) {
    do {
      try self.session.sendTrailers(streamID: call.streamID, headers: trailers)
    } catch {
      self.submissionFailed(error)
    }
    self.outputQueued()
  }

  func sendTrailersOnly(_ headers: NGHTTP2HeaderList, on call: ServerCall) {
    do {
      try self.session.submitResponseHeaders(
        streamID: call.streamID, headers: headers, endStream: true)
    } catch {
      self.submissionFailed(error)
    }
    self.outputQueued()
  }

  /// The route for a request, remembering the last one: a connection's requests mostly repeat
  /// one path, so this is usually a byte comparison instead of making a String and hashing it.
  private func route(for request: RequestHead) -> RPCRouter.Route {
    if let last = self.lastRoute, request.pathEquals(last.path) { return last.route }
    let path = request.path
    let route = self.router.route(path)
    self.lastRoute = (path, route)
    return route
  }

  private func cancelAllCalls() {
    let calls = self.calls.values
    self.calls.removeAll()
    self.callsAwaitingReady.removeAll()
    for call in calls where !call.isFinished {
      call.markCancelled()
      call.dispatch.cancel(call)
    }
  }
}

// MARK: - HTTP/2 events

extension GRPCConnectionHandler: NGHTTP2SessionDelegate {
  func didReceiveHeaders(streamID: Int32, headers: NGHTTP2HeaderBlock, endStream: Bool) {
    // Request trailers carry nothing for us. Events come from `receive`, inside `channelRead`,
    // so the handler is in its pipeline.
    guard headers.kind == .request, let context = self.context else { return }
    let request = RequestHead(headers, previousMetadata: self.lastMetadata)
    if let rejection = request.httpRejection {
      do {
        try self.session.submitResponseHeaders(
          streamID: streamID, headers: NGHTTP2HeaderList(rejection), endStream: true)
      } catch {
        self.submissionFailed(error)
      }
      return
    }
    let route = self.route(for: request)
    let metadata = request.metadata
    self.lastMetadata = metadata
    let call = ServerCall(
      streamID: streamID,
      route: route,
      requestMetadata: metadata,
      timeout: request.timeout?.duration,
      responseEncoding: request.responseEncoding(enabled: self.configuration.messageEncodings),
      connection: self,
      eventLoop: context.eventLoop,
      startTime: self.lastRead,
      dispatch: CallDispatch(route.handler),
      deframer: GRPCMessageDeframer(
        maxMessageSize: self.configuration.maxReceiveMessageSize,
        encoding: request.encoding ?? .identity)
    )
    self.calls[streamID] = call
    call.metrics.started()

    if let status = request.grpcRejection(for: route, enabled: self.configuration.messageEncodings)
    {
      call.finish(status)
      return
    }
    if let deadline = call.deadline { self.armDeadlineTimer(for: deadline, context: context) }
    if endStream { self.endOfRequests(call) }
  }

  func didReceiveData(streamID: Int32, data: ByteBuffer) {
    guard let call = self.calls[streamID], !call.isFinished else { return }
    call.deframer.append(data)
    do {
      while let message = try call.deframer.next() {
        call.metrics.receivedMessage()
        try call.dispatch.receive(message, on: call)
        if call.isFinished { return }
      }
    } catch let error as GRPCWireError {
      self.fail(call, GRPCStatus(code: error.statusCode, message: error.message))
    } catch let status as GRPCStatus {
      self.fail(call, status)
    } catch {
      self.fail(call, GRPCStatus(code: .internalError, message: "\(error)"))
    }
  }

  func didReceiveEndStream(streamID: Int32) {
    guard let call = self.calls[streamID], !call.isFinished else { return }
    self.endOfRequests(call)
  }

  func didCloseStream(streamID: Int32, errorCode: UInt32) {
    guard let call = self.calls.removeValue(forKey: streamID) else { return }
    if !call.isFinished {
      call.markCancelled()
      call.dispatch.cancel(call)
    }
  }

  func didReceiveGoAway(lastStreamID: Int32, errorCode: UInt32) {
    // The client will open no new streams; the connection closes once the open ones finish.
    self.isEndExpected = true
  }

  func didReceiveSettings() {}

  private func endOfRequests(_ call: ServerCall) {
    do {
      try call.deframer.finish()
      try call.dispatch.endOfRequests(on: call)
    } catch let error as GRPCWireError {
      self.fail(call, GRPCStatus(code: error.statusCode, message: error.message))
    } catch let status as GRPCStatus {
      self.fail(call, status)
    } catch {
      self.fail(call, GRPCStatus(code: .internalError, message: "\(error)"))
    }
  }

  private func fail(_ call: ServerCall, _ status: GRPCStatus) {
    call.finish(status)
    call.dispatch.cancel(call)
  }

  /// Arms the connection's one deadline timer for `deadline`, unless it fires earlier already.
  ///
  /// One timer per connection, not one per call: a call that finishes in time (nearly all do)
  /// then costs no timer at all, where scheduling and cancelling one per call was a heap insert
  /// and a linear-time removal on the event loop's timer queue for every RPC.
  private func armDeadlineTimer(for deadline: NIODeadline, context: ChannelHandlerContext) {
    if let armed = self.deadlineTimer, armed.deadline <= deadline { return }
    self.deadlineTimer?.task.cancel()
    let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
    let task = context.eventLoop.scheduleTask(deadline: deadline) {
      handler.value.expireDeadlines()
    }
    self.deadlineTimer = (deadline, task)
  }

  /// Ends every call whose deadline has passed and re-arms for the earliest one still ahead.
  private func expireDeadlines() {
    self.deadlineTimer = nil
    guard let context = self.context else { return }
    let now = NIODeadline.now()
    var next: NIODeadline?
    for call in self.calls.values where !call.isFinished {
      guard let deadline = call.deadline else { continue }
      if deadline <= now {
        self.fail(call, GRPCStatus(code: .deadlineExceeded, message: "deadline exceeded"))
      } else {
        next = min(next ?? deadline, deadline)
      }
    }
    if let next { self.armDeadlineTimer(for: next, context: context) }
  }
}

@available(*, unavailable)
extension GRPCConnectionHandler: Sendable {}
