import GRPCWire
import NGHTTP2
import NIOCore

/// The streams side of a server connection: requests into calls, their messages into handlers,
/// and the connection's one deadline timer.
extension GRPCConnectionHandler {
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
      peer: self.peer,
      eventLoop: self.eventLoop,
      startTime: self.lifecycle.lastRead,
      dispatch: CallDispatch(route.handler),
      deframer: GRPCMessageDeframer(
        maxMessageSize: self.configuration.maxReceiveMessageSize,
        encoding: request.encoding ?? .identity)
    )
    self.session.attach(call, to: streamID)
    route.observer.started(call)

    if let status = request.grpcRejection(for: route, enabled: self.configuration.messageEncodings)
    {
      call.finish(status)
      return
    }
    if let deadline = call.deadline { self.armDeadlineTimer(for: deadline, context: context) }
    if endStream { self.endOfRequests(call) }
  }

  func didReceiveData(streamID: Int32, data: ByteBuffer) {
    guard let call = self.call(on: streamID), !call.isFinished else { return }
    call.deframer.append(data)
    do {
      while let message = try call.deframer.next() {
        call.route.observer.receivedMessage(on: call)
        try call.dispatch.receive(message, on: call)
        if call.isFinished { return }
      }
    } catch {
      self.fail(call, for: error)
    }
  }

  func didReceiveEndStream(streamID: Int32) {
    guard let call = self.call(on: streamID), !call.isFinished else { return }
    self.endOfRequests(call)
  }

  func didCloseStream(streamID: Int32, errorCode: HTTP2ErrorCode, attachment: AnyObject?) {
    // Streams rejected before a call was made (malformed, or refused at the HTTP level) have none.
    guard let attachment else { return }
    let call = Self.call(attachment)
    if !call.isFinished {
      call.markCancelled()
      call.dispatch.cancel(call)
    }
  }

  func didReceiveGoAway(lastStreamID: Int32, errorCode: HTTP2ErrorCode) {
    self.lifecycle.clientSentGoAway()
  }

  func didReceiveSettings() {}

  /// The call on an open stream.
  private func call(on streamID: Int32) -> ServerCall? {
    self.session.attachment(of: streamID).map(Self.call)
  }

  /// A stream's attachment as the call it is: only calls are attached to this session's streams.
  private static func call(_ attachment: AnyObject) -> ServerCall {
    unsafeDowncast(attachment, to: ServerCall.self)
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

  private func endOfRequests(_ call: ServerCall) {
    do {
      try call.deframer.finish()
      try call.dispatch.endOfRequests(on: call)
    } catch {
      self.fail(call, for: error)
    }
  }

  private func fail(_ call: ServerCall, _ status: GRPCStatus) {
    call.finish(status)
    call.dispatch.cancel(call)
  }

  /// Ends a call whose requests broke the wire rules (framing, size, encoding) or whose handler
  /// threw.
  private func fail(_ call: ServerCall, for error: any Error) {
    switch error {
    case let error as GRPCWireError:
      self.fail(call, GRPCStatus(code: error.statusCode, message: error.message))
    case let status as GRPCStatus:
      self.fail(call, status)
    default:
      self.fail(call, GRPCStatus(code: .internalError, message: "\(error)"))
    }
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
    let now = context.eventLoop.now
    var next: NIODeadline?
    for call in self.session.attachments.map(Self.call) {
      guard !call.isFinished, let deadline = call.deadline else { continue }
      if deadline <= now {
        self.fail(call, GRPCStatus(code: .deadlineExceeded, message: "deadline exceeded"))
      } else {
        next = min(next ?? deadline, deadline)
      }
    }
    if let next { self.armDeadlineTimer(for: next, context: context) }
  }
}

// MARK: - Replies (used by ServerCall)

extension GRPCConnectionHandler {
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
    self.io.outputQueued()
  }

  /// Sends a call's response headers; with `endStream`, they are its trailers too (a
  /// trailers-only response).
  func sendHeaders(_ headers: NGHTTP2HeaderList, endStream: Bool, on call: ServerCall) {
    do {
      try self.session.submitResponseHeaders(
        streamID: call.streamID, headers: headers, endStream: endStream)
    } catch {
      self.submissionFailed(error)
    }
    self.io.outputQueued()
  }

  func sendData(_ framed: ByteBuffer, on call: ServerCall) {
    do {
      try self.session.sendData(streamID: call.streamID, framed, endStream: false)
    } catch {
      self.submissionFailed(error)
    }
    self.io.outputQueued()
  }

  func sendTrailers(_ trailers: NGHTTP2HeaderList, on call: ServerCall) {
    do {
      try self.session.sendTrailers(streamID: call.streamID, headers: trailers)
    } catch {
      self.submissionFailed(error)
    }
    self.io.outputQueued()
  }

  func cancelAllCalls() {
    let calls = self.session.detachAll().map(Self.call)
    self.callsAwaitingReady.removeAll()
    for call in calls where !call.isFinished {
      call.markCancelled()
      call.dispatch.cancel(call)
    }
  }

  /// Runs the ``ServerCall/whenReady(_:)`` handlers of calls whose replies have drained; what
  /// they send goes out with the next flush, which ``NGHTTP2ChannelIO/outputQueued()`` schedules.
  func resumeReadyCalls() {
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
}
