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
/// It sits right behind the request decoder (before ``HTTP1RequestQueue``, which holds back
/// pipelined requests), so it sees each request's parts as soon as they are parsed;
/// ``HTTP1RequestBytes`` in front of the decoder tells it when a request's first bytes arrive
/// and how many bytes its head has taken. Responses pass through it on their way out, which is
/// how it knows when nothing more is owed. Between requests a keep-alive connection may wait
/// ``HTTP1ConnectionLimits/idleTimeout`` for the next one, and a client that takes none of its
/// responses (the socket stays full) is given as long before the connection is closed.
final class HTTP1RequestGuard: ChannelDuplexHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias InboundOut = HTTPServerRequestPart
  typealias OutboundIn = HTTP1Answer
  typealias OutboundOut = HTTP1Answer

  enum Phase {
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

  enum Deadline {
    case head, body, idle
  }

  let limits: HTTP1ConnectionLimits
  /// The shortest of the three timeouts: the timer never waits longer than this.
  let checkInterval: TimeAmount
  var phase = Phase.idle
  /// The limit the connection runs against now and when it runs out; none while the client
  /// only waits for a response.
  var deadline: (kind: Deadline, at: NIODeadline)?
  /// One timer per connection, not one per request (scheduling and cancelling a task per request
  /// cost more than the rest of the guard): it fires at most ``checkInterval`` after it was set,
  /// and is set again then if the deadline has moved on. A new deadline is never earlier than
  /// that, so every deadline is met on time.
  var timer: Scheduled<Void>?
  /// Requests fully received minus responses fully written (below zero when a response ended
  /// before its request did).
  var owed = 0
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
        self.refuse(.bodyTooLarge(limit: self.limits.maxBodyBytes), context: context)
        return
      }
      self.phase = .body(bytes: 0)
      self.setDeadline(.body, context: context)
    case .body(let chunk):
      guard case .body(let bytes) = self.phase else { return }
      let total = bytes + chunk.readableBytes
      guard total <= self.limits.maxBodyBytes else {
        self.refuse(.bodyTooLarge(limit: self.limits.maxBodyBytes), context: context)
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
    self.owed -= 1
    context.write(data, promise: promise)
    if self.isRefusing {
      self.finishRefusing(context: context)
    } else {
      self.setIdleDeadline(context: context)
    }
  }

  // MARK: Ending the connection

  func refuse(_ answer: HTTP1Response, context: ChannelHandlerContext) {
    guard !self.isRefusing else { return }
    // A request whose head was passed on but whose body never ended gets this answer instead
    // of its own, unless its own is already written (an answer before the body).
    var answeredEarly = false
    if case .body = self.phase { answeredEarly = self.owed < 0 }
    self.phase = .refusing
    self.deadline = nil
    self.cancelTimer()
    self.owed = max(self.owed, 0)
    self.finalAnswer = answeredEarly ? nil : answer
    self.finishRefusing(context: context)
  }

  /// Once every owed response is written: the final answer, then close.
  private func finishRefusing(context: ChannelHandlerContext) {
    guard self.owed <= 0 else { return }
    guard let answer = self.finalAnswer else {
      context.close(promise: nil)
      return
    }
    self.finalAnswer = nil
    answer.writeClosing(on: context)
  }

  /// The answer to a head over the limit.
  private func headTooLarge() -> HTTP1Response {
    let requestLineLength: Int?
    if case .head(_, let lineLength) = self.phase {
      requestLineLength = lineLength ?? .max
    } else {
      requestLineLength = nil
    }
    return .headTooLarge(limit: self.limits.maxHeadBytes, requestLineLength: requestLineLength)
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
}

@available(*, unavailable)
extension HTTP1RequestGuard: Sendable {}
