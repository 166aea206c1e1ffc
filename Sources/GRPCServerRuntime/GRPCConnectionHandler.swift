import GRPCWire
import Logging
import NGHTTP2
import NIOCore

/// Serves gRPC on one HTTP/2 connection: bytes in, through libnghttp2, into calls; replies out.
///
/// Everything runs on the connection's event loop with no task hop: a synchronous handler's reply
/// is queued while the request's bytes are processed, and all frames produced by one read burst
/// leave in one write and one flush (``NGHTTP2ChannelIO``). When the connection ends is decided
/// by a ``ServerConnectionLifecycle``; this handler keeps its timers and carries out its answers.
/// The streams side (requests into calls, deadlines) is in `GRPCConnectionHandler+Streams.swift`.
final class GRPCConnectionHandler: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  let router: RPCRouter
  let configuration: ServerRuntimeConfiguration
  let logger: Logger
  /// The connection's event loop, kept here: asking the context for it on every read costs
  /// reference counting on the hot path. Its clock is the one the lifecycle runs on.
  let eventLoop: any EventLoop
  let io: NGHTTP2ChannelIO
  /// The connection's HTTP/2 state (``io``'s session, kept here to spare a hop per use). Its
  /// streams carry their calls as attachments: the connection keeps no stream table of its own.
  let session: NGHTTP2Session
  var lifecycle: ServerConnectionLifecycle
  /// Calls waiting, through ``ServerCall/whenReady(_:)``, for their unread replies to drain.
  var callsAwaitingReady: [ServerCall] = []
  var lastRoute: (path: String, route: RPCRouter.Route)?
  /// The metadata of the last request, handed to the next one if it repeats it.
  var lastMetadata: [(name: String, value: String)] = []
  /// The connection's one deadline timer and when it fires (see `armDeadlineTimer`).
  var deadlineTimer: (deadline: NIODeadline, task: Scheduled<Void>)?
  private var keepalive: RepeatedTask?
  /// Looks for idleness once per idle timeout (see `checkIdle`): cheaper than an
  /// `IdleStateHandler`, which every read, write and flush would pass through.
  private var idleCheck: Scheduled<Void>?
  /// Closes the socket after a silence once our side is shut (see `closeAfterLingering`).
  private var lingerTimer: Scheduled<Void>?

  /// The client's address, for calls and log lines.
  private(set) var peer = "?"
  private(set) var allocator = ByteBufferAllocator()
  /// The response headers of a call without metadata or compression, built once per connection
  /// and shared by its calls, so the common case allocates nothing.
  let plainResponseHeaders: NGHTTP2HeaderList

  init(
    router: RPCRouter, configuration: ServerRuntimeConfiguration, logger: Logger,
    eventLoop: any EventLoop
  ) {
    self.router = router
    self.configuration = configuration
    self.logger = logger
    self.eventLoop = eventLoop
    self.session = NGHTTP2Session(role: .server, settings: configuration.http2Settings)
    self.io = NGHTTP2ChannelIO(session: self.session)
    self.lifecycle = ServerConnectionLifecycle(configuration: configuration, now: eventLoop.now)
    self.plainResponseHeaders = [
      (":status", "200"),
      ("content-type", GRPCContentType.responseHeaderValue),
      ("grpc-accept-encoding", configuration.messageEncodings.headerValue),
    ]
  }

  var context: ChannelHandlerContext? { self.io.context }

  // MARK: Channel events

  func handlerAdded(context: ChannelHandlerContext) {
    self.allocator = context.channel.allocator
    self.peer = context.remoteAddress.map { "\($0)" } ?? "?"
    self.io.attach(to: context, delegate: self)
    self.lifecycle = ServerConnectionLifecycle(
      configuration: self.configuration, now: self.eventLoop.now)
    self.io.flush()  // The server's SETTINGS go out at once; some clients wait for them.
    self.scheduleIdleCheck(at: self.lifecycle.firstIdleCheck)
    if let interval = self.lifecycle.keepaliveInterval {
      let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
      self.keepalive = context.eventLoop.scheduleRepeatedTask(
        initialDelay: interval, delay: interval
      ) { _ in handler.value.checkKeepalive() }
    }
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    self.keepalive?.cancel()
    self.keepalive = nil
    self.idleCheck?.cancel()
    self.idleCheck = nil
    self.deadlineTimer?.task.cancel()
    self.deadlineTimer = nil
    self.lingerTimer?.cancel()
    self.lingerTimer = nil
    self.cancelAllCalls()
    self.io.detach()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch self.lifecycle.bytesArrived(at: self.eventLoop.now) {
    case .receive:
      break
    case .drop(let extendLinger):
      if extendLinger { self.scheduleLingerEnd(context: context) }
      return
    }
    do {
      try self.io.read(self.unwrapInboundIn(data))
    } catch {
      self.logger.info(
        "closing HTTP/2 connection after a protocol error",
        metadata: ["peer": "\(self.peer)", "error": "\(error)"])
      self.lifecycle.failed()
      self.io.flush()
      self.closeAfterLingering(context: context)
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    self.io.readComplete()
  }

  func channelInactive(context: ChannelHandlerContext) {
    self.cancelAllCalls()
    context.fireChannelInactive()
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    self.io.writabilityChanged()
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

  // MARK: Ending the connection

  /// Ends a connection nghttp2 is done with: FIN after the last frames, then the client's bytes
  /// are read and dropped until it closes its side too, or goes quiet for a
  /// ``ServerConnectionLifecycle/lingerSilence``. Closing the socket outright while the client
  /// still sends (the WINDOW_UPDATEs of a long reply it is still reading, a request racing the
  /// GOAWAY) would make the kernel answer with a reset, and a reset destroys what the client has
  /// not read yet: the end of that reply, or the GOAWAY that says why.
  private func closeAfterLingering(context: ChannelHandlerContext) {
    guard self.lifecycle.beginLinger(at: context.eventLoop.now) else { return }
    self.io.stopWriting()
    let channel = context.channel
    context.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
    self.scheduleLingerEnd(context: context)
  }

  private func scheduleLingerEnd(context: ChannelHandlerContext) {
    self.lingerTimer?.cancel()
    let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
    self.lingerTimer = context.eventLoop.scheduleTask(in: ServerConnectionLifecycle.lingerSilence) {
      handler.value.context?.close(promise: nil)
    }
  }

  /// GOAWAY in two steps: a notice now, so clients open no new streams, and the final GOAWAY
  /// once streams already in flight to us have arrived. The connection closes when the last
  /// RPC finishes.
  private func beginGracefulShutdown(context: ChannelHandlerContext) {
    guard self.lifecycle.quiesce() else { return }
    do {
      try self.session.beginGracefulShutdown()
    } catch {
      self.submissionFailed(error)
    }
    self.io.flush()
    let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
    context.eventLoop.scheduleTask(in: ServerConnectionLifecycle.goAwayNoticePeriod) {
      let handler = handler.value
      guard handler.context != nil else { return }
      handler.sendGoAway()
    }
  }

  private func checkIdle() {
    guard let context = self.context else { return }
    switch self.lifecycle.idleCheck(
      at: context.eventLoop.now, hasOpenCalls: self.session.hasOpenStreams)
    {
    case .goAway:
      self.logger.debug("closing idle HTTP/2 connection")
      self.sendGoAway()
    case .checkAgain(let deadline):
      self.scheduleIdleCheck(at: deadline)
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
  private func checkKeepalive() {
    guard let context = self.context, self.lifecycle.shouldPing(at: context.eventLoop.now) else {
      return
    }
    do {
      try self.session.submitPing()
    } catch {
      self.submissionFailed(error)
    }
    self.io.flush()
    let pinged = context.eventLoop.now
    let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
    context.eventLoop.scheduleTask(deadline: self.lifecycle.pingDeadline(sentAt: pinged)) {
      let handler = handler.value
      guard let context = handler.context, handler.lifecycle.isPingUnanswered(sentAt: pinged)
      else { return }
      handler.logger.info(
        "closing HTTP/2 connection: keepalive PING not answered",
        metadata: ["peer": "\(handler.peer)"])
      context.close(promise: nil)
    }
  }

  /// Sends the final GOAWAY now: the connection closes once its open streams have finished.
  private func sendGoAway() {
    do {
      try self.session.submitGoAway()
    } catch {
      self.submissionFailed(error)
    }
    self.io.flush()
  }

  /// A submission that failed (its stream was reset meanwhile) only costs a log line. Callers
  /// use `do`/`catch` around the session call rather than a closure helper: a closure's captures
  /// are retained and released around every call, four times per RPC.
  func submissionFailed(_ error: NGHTTP2Error) {
    self.logger.debug("HTTP/2 submission failed", metadata: ["error": "\(error)"])
  }
}

// MARK: - Output

extension GRPCConnectionHandler: NGHTTP2ChannelIODelegate {
  func channelIODidFlush(sessionFinished: Bool) {
    if sessionFinished, let context = self.context {
      if !self.lifecycle.isEndExpected {
        // nghttp2 answered a protocol violation or a flood (such as streams reset faster than
        // its limit allows) with GOAWAY by itself.
        self.logger.info(
          "closing HTTP/2 connection: the client broke the protocol or its limits",
          metadata: ["peer": "\(self.peer)"])
      }
      self.closeAfterLingering(context: context)
    }
    if !self.callsAwaitingReady.isEmpty { self.resumeReadyCalls() }
  }

  func channelIODidFail(_ error: NGHTTP2Error) {
    self.logger.info("closing HTTP/2 connection", metadata: ["error": "\(error)"])
    self.context?.close(promise: nil)
  }
}

@available(*, unavailable)
extension GRPCConnectionHandler: Sendable {}
