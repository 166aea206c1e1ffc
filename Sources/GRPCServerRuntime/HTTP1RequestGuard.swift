import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Holds every HTTP/1.1 request on a connection to ``HTTP1ConnectionLimits`` and ends the
/// connection when a client breaks them or sends what cannot be parsed: the client gets one
/// answer that says what was wrong (`400`, `408`, `413`, `431`) with `Connection: close`, after the
/// responses it is still owed, and then the connection is closed.
///
/// It sits right behind the request decoder (before NIO's pipelining handler, which holds back
/// pipelined requests), so it sees each request's parts as soon as they are parsed;
/// ``HTTP1RequestBytes`` in front of the decoder tells it when a request's first bytes arrive
/// and how many bytes its head has taken. Responses pass through it on their way out, which is
/// how it knows when nothing more is owed. Between requests a keep-alive connection may wait
/// ``HTTP1ConnectionLimits/idleTimeout`` for the next one, and a client that takes none of its
/// responses (the socket stays full) is given as long before the connection is closed.
final class HTTP1RequestGuard: ChannelDuplexHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias InboundOut = HTTPServerRequestPart
  typealias OutboundIn = HTTPServerResponsePart
  typealias OutboundOut = HTTPServerResponsePart

  private enum Phase {
    /// Between requests.
    case idle
    /// A request's first bytes are in, its head is not complete yet; `lineLength` once the
    /// request line's line feed has arrived.
    case head(bytes: Int, lineLength: Int?)
    /// The head is parsed; the body, `bytes` of it so far, has not ended.
    case body(bytes: Int)
    /// The connection is being ended: nothing more is read.
    case refusing
  }

  private enum Deadline {
    case head, body, idle
  }

  private let limits: HTTP1ConnectionLimits
  /// The shortest of the three timeouts: the timer never waits longer than this.
  private let checkInterval: TimeAmount
  private var phase = Phase.idle
  /// The limit the connection runs against now and when it runs out; none while the client
  /// only waits for a response.
  private var deadline: (kind: Deadline, at: NIODeadline)?
  /// One timer per connection, not one per request (scheduling and cancelling a task per request
  /// cost more than the rest of the guard): it fires at most ``checkInterval`` after it was set,
  /// and is set again then if the deadline has moved on. A new deadline is never earlier than
  /// that, so every deadline is met on time.
  private var timer: Scheduled<Void>?
  /// Requests fully received minus responses fully written (below zero when a response ended
  /// before its request did).
  private var owed = 0
  private var isWritingResponse = false
  /// What to send once no response is owed, before closing.
  private var finalAnswer: HTTP1Response?
  /// Set while the socket is full: closes the connection if the client takes nothing more for
  /// the idle timeout (no answer can reach such a client, and it holds its unread responses).
  private var stallTimer: Scheduled<Void>?

  init(limits: HTTP1ConnectionLimits) {
    self.limits = limits
    self.checkInterval = min(limits.headTimeout, limits.bodyTimeout, limits.idleTimeout)
  }

  /// Whether the connection is being ended, so further bytes need not be parsed.
  var isRefusing: Bool {
    if case .refusing = self.phase { return true }
    return false
  }

  // MARK: Events from HTTP1RequestBytes (in front of the decoder)

  /// `buffer` arrived and is about to be parsed.
  func bytesArriving(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
    switch self.phase {
    case .idle:
      self.phase = .head(bytes: buffer.readableBytes, lineLength: Self.lineFeed(in: buffer))
      self.setDeadline(.head, context: context)
    case .head(let bytes, let lineLength):
      self.phase = .head(
        bytes: bytes + buffer.readableBytes,
        lineLength: lineLength ?? Self.lineFeed(in: buffer).map { bytes + $0 })
    case .body, .refusing:
      break
    }
  }

  /// The bytes announced by ``bytesArriving(_:context:)`` are parsed: a head still incomplete
  /// after them is over the limit if they took it past ``HTTP1ConnectionLimits/maxHeadBytes``.
  func bytesParsed(context: ChannelHandlerContext) {
    guard case .head(let bytes, _) = self.phase, bytes > self.limits.maxHeadBytes else { return }
    self.refuse(self.headTooLarge(), context: context)
  }

  // MARK: Inbound

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch self.unwrapInboundIn(data) {
    case .head(let head):
      guard !self.isRefusing else { return }
      // Refused before the handler sees the head: no point reading a body it could not take.
      if let length = head.headers.first(name: "content-length").flatMap({ Int($0) }),
        length > self.limits.maxBodyBytes
      {
        self.refuse(Self.bodyTooLarge(self.limits.maxBodyBytes), context: context)
        return
      }
      self.phase = .body(bytes: 0)
      self.setDeadline(.body, context: context)
    case .body(let chunk):
      guard case .body(let bytes) = self.phase else { return }
      let total = bytes + chunk.readableBytes
      guard total <= self.limits.maxBodyBytes else {
        self.refuse(Self.bodyTooLarge(self.limits.maxBodyBytes), context: context)
        return
      }
      self.phase = .body(bytes: total)
    case .end:
      guard !self.isRefusing else { return }
      self.phase = .idle
      self.owed += 1
      self.deadline = nil
    }
    context.fireChannelRead(data)
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    guard let error = error as? HTTPParserError else {
      context.fireErrorCaught(error)
      return
    }
    // Bytes after a request that ended the connection (HTTP/1.0, `Connection: close`): its
    // response already said close, so nothing may follow it (RFC 9112 section 9.6).
    guard error != .closedConnection else {
      context.close(promise: nil)
      return
    }
    // Answered here rather than by NIO's error handler, which leaves the connection open.
    let answer: HTTP1Response =
      error == .headerOverflow
      ? self.headTooLarge()
      : .text(.badRequest, "malformed HTTP/1.1 request: \(error)\n")
    self.refuse(answer, context: context)
  }

  func channelActive(context: ChannelHandlerContext) {
    self.setIdleDeadline(context: context)
    context.fireChannelActive()
  }

  func handlerAdded(context: ChannelHandlerContext) {
    // Added to a connection already active (behind the protocol sniffer).
    if context.channel.isActive { self.setIdleDeadline(context: context) }
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    self.cancelTimer()
    self.stallTimer?.cancel()
    self.stallTimer = nil
  }

  func channelInactive(context: ChannelHandlerContext) {
    self.cancelTimer()
    self.stallTimer?.cancel()
    self.stallTimer = nil
    context.fireChannelInactive()
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    if context.channel.isWritable {
      self.stallTimer?.cancel()
      self.stallTimer = nil
    } else if self.stallTimer == nil {
      let channel = context.channel
      self.stallTimer = context.eventLoop.scheduleTask(in: self.limits.idleTimeout) {
        channel.close(promise: nil)
      }
    }
    context.fireChannelWritabilityChanged()
  }

  // MARK: Outbound

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    switch self.unwrapOutboundIn(data) {
    case .head(let head) where head.status.code >= 200:  // not a 1xx interim answer
      self.isWritingResponse = true
    case .head, .body:
      break
    case .end:
      self.isWritingResponse = false
      self.owed -= 1
      context.write(data, promise: promise)
      if self.isRefusing {
        self.finishRefusing(context: context)
      } else {
        self.setIdleDeadline(context: context)
      }
      return
    }
    context.write(data, promise: promise)
  }

  // MARK: Ending the connection

  private func refuse(_ answer: HTTP1Response, context: ChannelHandlerContext) {
    guard !self.isRefusing else { return }
    // A request whose head was passed on but whose body never ended gets this answer instead
    // of its own, unless its own is already written or on its way (an answer before the body).
    var answeredEarly = false
    if case .body = self.phase { answeredEarly = self.owed < 0 || self.isWritingResponse }
    self.phase = .refusing
    self.deadline = nil
    self.cancelTimer()
    self.owed = max(self.owed, 0)
    self.finalAnswer = answeredEarly ? nil : answer
    self.finishRefusing(context: context)
  }

  /// Once every owed response is written: the final answer, then close.
  private func finishRefusing(context: ChannelHandlerContext) {
    guard self.owed <= 0, !self.isWritingResponse else { return }
    guard let answer = self.finalAnswer else {
      context.close(promise: nil)
      return
    }
    self.finalAnswer = nil
    answer.writeClosing(on: context)
  }

  private func setIdleDeadline(context: ChannelHandlerContext) {
    guard case .idle = self.phase, self.owed <= 0, !self.isWritingResponse else { return }
    self.setDeadline(.idle, context: context)
  }

  private func setDeadline(_ kind: Deadline, context: ChannelHandlerContext) {
    let now = context.eventLoop.now
    let timeout: TimeAmount
    switch kind {
    case .head: timeout = self.limits.headTimeout
    case .body: timeout = self.limits.bodyTimeout
    case .idle: timeout = self.limits.idleTimeout
    }
    self.deadline = (kind, now + timeout)
    if self.timer == nil { self.setTimer(now: now, context: context) }
  }

  private func setTimer(now: NIODeadline, context: ChannelHandlerContext) {
    guard let deadline = self.deadline else { return }
    let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
    self.timer = context.eventLoop.scheduleTask(
      deadline: min(deadline.at, now + self.checkInterval)
    ) {
      let (guardHandler, context) = bound.value
      guardHandler.timer = nil
      guardHandler.checkDeadline(context: context)
    }
  }

  private func checkDeadline(context: ChannelHandlerContext) {
    guard let deadline = self.deadline else { return }  // set again with the next deadline
    let now = context.eventLoop.now
    guard deadline.at <= now else {
      self.setTimer(now: now, context: context)
      return
    }
    self.deadline = nil
    self.deadlinePassed(deadline.kind, context: context)
  }

  private func deadlinePassed(_ kind: Deadline, context: ChannelHandlerContext) {
    switch kind {
    case .head:
      self.refuse(
        .text(
          .requestTimeout,
          "the request head did not arrive within \(Self.describe(self.limits.headTimeout))\n"),
        context: context)
    case .body:
      self.refuse(
        .text(
          .requestTimeout,
          "the request body did not arrive within \(Self.describe(self.limits.bodyTimeout))\n"),
        context: context)
    case .idle:
      context.close(promise: nil)  // A keep-alive connection nobody uses any more.
    }
  }

  private func cancelTimer() {
    self.timer?.cancel()
    self.timer = nil
  }

  /// `431`, or `414` while the request line itself has not ended (RFC 9112 §3: a target longer
  /// than the server will parse).
  private func headTooLarge() -> HTTP1Response {
    let limit = self.limits.maxHeadBytes
    if case .head(_, let lineLength) = self.phase, lineLength ?? .max > limit {
      return .text(
        .uriTooLong, "the request target is too long: the request line is over \(limit) bytes\n")
    }
    return .text(.requestHeaderFieldsTooLarge, "the request head is over \(limit) bytes\n")
  }

  /// Where the first line feed of `buffer` is, from its first readable byte.
  private static func lineFeed(in buffer: ByteBuffer) -> Int? {
    buffer.withUnsafeReadableBytes { bytes in
      guard let base = bytes.baseAddress,
        let found = memchr(base, Int32(UInt8(ascii: "\n")), bytes.count)
      else { return nil }
      return base.distance(to: UnsafeRawPointer(found))
    }
  }

  private static func bodyTooLarge(_ limit: Int) -> HTTP1Response {
    .text(.payloadTooLarge, "the request body is over \(limit) bytes\n")
  }

  private static func describe(_ amount: TimeAmount) -> String {
    let milliseconds = amount.nanoseconds / 1_000_000
    return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
  }
}

@available(*, unavailable)
extension HTTP1RequestGuard: Sendable {}

/// In front of the HTTP/1.1 request decoder: tells ``HTTP1RequestGuard`` about the bytes each
/// read brings before the decoder parses them and after, and drops what arrives once the guard is
/// ending the connection.
final class HTTP1RequestBytes: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer

  private let requestGuard: HTTP1RequestGuard
  private var guardContext: ChannelHandlerContext?

  init(requestGuard: HTTP1RequestGuard) {
    self.requestGuard = requestGuard
  }

  func handlerAdded(context: ChannelHandlerContext) {
    self.guardContext = try? context.pipeline.syncOperations.context(handler: self.requestGuard)
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    self.guardContext = nil
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard let guardContext = self.guardContext else {
      context.fireChannelRead(data)
      return
    }
    guard !self.requestGuard.isRefusing else { return }
    self.requestGuard.bytesArriving(self.unwrapInboundIn(data), context: guardContext)
    context.fireChannelRead(data)
    self.requestGuard.bytesParsed(context: guardContext)
  }
}

@available(*, unavailable)
extension HTTP1RequestBytes: Sendable {}
