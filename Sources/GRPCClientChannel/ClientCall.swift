import GRPCWire
import NGHTTP2
import NIOCore

/// One unary call in flight: its request, deadline and response, on the event loop of the
/// connection it was given to. It hands its result to `onFinish` exactly once, on that loop.
final class ClientCall {
  let method: GRPCClientMethod
  let request: ByteBuffer
  let timeout: Duration
  let startTime: ContinuousClock.Instant
  let eventLoop: any EventLoop
  private let onFinish: (GRPCUnaryResult) -> Void
  var reader: GRPCUnaryResponseReader
  private(set) var isFinished = false
  /// When the call must end, on the event loop's clock; watched by a ``CallDeadlineTimer``.
  private(set) var deadline = NIODeadline.distantFuture
  /// The timer watching the deadline, and the call's place in its list.
  private var deadlineTimer: CallDeadlineTimer?
  var deadlineSlot: Int?
  /// Set once the request is on a stream, so a cancellation can reset it.
  private(set) var stream: (id: Int32, connection: GRPCClientConnectionHandler)?
  /// Set when a refused stream sent the call out once more (see ``takeRetry(afterClose:)``).
  private var isRetried = false
  private var isRequestSent = false

  init(
    method: GRPCClientMethod,
    request: ByteBuffer,
    timeout: Duration,
    maxResponseSize: Int,
    startTime: ContinuousClock.Instant,
    eventLoop: any EventLoop,
    onFinish: @escaping (GRPCUnaryResult) -> Void
  ) {
    self.method = method
    self.request = request
    self.timeout = timeout
    self.startTime = startTime
    self.eventLoop = eventLoop
    self.onFinish = onFinish
    self.reader = GRPCUnaryResponseReader(maxMessageSize: maxResponseSize)
  }

  /// Starts the deadline clock; a call still running when its deadline passes is reset and
  /// ends with `DEADLINE_EXCEEDED`. A retried call keeps the clock it started with.
  func armDeadline(on timer: CallDeadlineTimer) {
    guard self.deadlineTimer == nil else { return }
    self.deadline = .now() + TimeAmount(self.remainingTime)
    self.deadlineTimer = timer
    timer.add(self)
  }

  /// The time left before the deadline, for `grpc-timeout`.
  var remainingTime: Duration {
    self.timeout - (ContinuousClock.now - self.startTime)
  }

  /// The request is on a stream. It counts as sent once, however often a refusal retried it.
  func attach(streamID: Int32, connection: GRPCClientConnectionHandler) {
    if !self.isRequestSent {
      self.isRequestSent = true
      self.method.sentMessage()
    }
    self.stream = (streamID, connection)
  }

  /// Ends the call from this side (cancellation, deadline): resets its stream, if any.
  func abandon(_ status: GRPCStatus) {
    guard !self.isFinished else { return }
    if let stream = self.stream {
      stream.connection.reset(streamID: stream.id)
    }
    self.finish(status, message: nil, peer: self.stream?.connection.peer)
  }

  /// Whether the call goes out once more after its stream closed with `errorCode`: only after
  /// REFUSED_STREAM before any response, which guarantees the server did not process the
  /// request (RFC 9113 §8.7; a draining server's GOAWAY refuses the streams it will not serve),
  /// and only once (gRPC's transparent retry). If so, the call is detached from its stream;
  /// the caller starts it elsewhere. It still counts once in the metrics.
  func takeRetry(afterClose errorCode: HTTP2ErrorCode) -> Bool {
    guard !self.isFinished, !self.isRetried, errorCode == .refusedStream,
      !self.reader.hasResponse
    else { return false }
    self.isRetried = true
    self.stream = nil
    return true
  }

  /// Ends the call with what the stream delivered.
  func streamClosed(errorCode: HTTP2ErrorCode, peer: String) {
    guard !self.isFinished else { return }
    let (status, message, isServerStatus) = self.reader.finish(errorCode: errorCode)
    for _ in 0..<self.reader.messageCount { self.method.receivedMessage() }
    self.finish(status, message: message, peer: peer, isServerStatus: isServerStatus)
  }

  /// Ends the call; `isServerStatus` only when `status` is the server's `grpc-status`.
  func finish(
    _ status: GRPCStatus, message: ByteBuffer?, peer: String?, isServerStatus: Bool = false
  ) {
    guard !self.isFinished else { return }
    self.isFinished = true
    self.deadlineTimer?.remove(self)
    self.deadlineTimer = nil
    let elapsed = ContinuousClock.now - self.startTime
    self.method.finished(status.code, after: elapsed)
    self.onFinish(
      GRPCUnaryResult(
        status: status, message: message, metadata: self.reader.metadata, peer: peer,
        elapsed: elapsed, isServerStatus: isServerStatus))
  }
}

@available(*, unavailable)
extension ClientCall: Sendable {}
