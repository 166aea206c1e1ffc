import GRPCPrometheus
import GRPCWire
import NGHTTP2
import NIOCore

/// The server side of one RPC: what the client asked for, and the way to answer.
///
/// A call belongs to its connection's event loop; every method must be called there (use
/// ``eventLoop`` to get there from elsewhere). After ``finish(_:)`` or a cancellation further
/// sends are ignored, so a handler racing a client reset needs no special care.
public final class ServerCall {
  /// Service, method and RPC type.
  public var method: GRPCMethod { self.route.method }
  /// The request's custom metadata (reserved gRPC and HTTP/2 headers removed; `-bin` values
  /// still base64-encoded, as on the wire).
  public let requestMetadata: [(name: String, value: String)]
  /// When the client stops waiting, from `grpc-timeout`; `nil` when it sent none.
  public let deadline: NIODeadline?
  /// The client's `grpc-timeout`: it tells a client's deadline from its cancellation.
  private let timeout: Duration?
  /// The event loop of the connection; the call must be used on it.
  public let eventLoop: any EventLoop
  /// The client's address, as NIO spells it (`[IPv4]127.0.0.1/127.0.0.1:54321`).
  public let peer: String
  /// Metadata sent with the response headers; set it before the first message or the finish.
  public var initialMetadata: [(name: String, value: String)] = []
  /// Metadata sent with the status in the trailers.
  public var trailingMetadata: [(name: String, value: String)] = []
  /// True once the call has a final status (sent by ``finish(_:)`` or by the runtime).
  public private(set) var isFinished = false

  /// True while the call can take another response message without replies piling up: less
  /// than ``readyThreshold`` bytes of its earlier messages wait for the client to read them (its
  /// flow-control window) or for the socket. A handler that produces many replies sends while
  /// this is true and continues from ``whenReady(_:)``; a client that does not read then costs
  /// the server no memory beyond that. False once the call is finished.
  public var isReady: Bool {
    !self.isFinished && self.connection.queuedResponseBytes(of: self) < Self.readyThreshold
  }

  /// How many unread response bytes a call may have and still be ``isReady``: a flow-control
  /// window's worth, so a client that reads keeps getting data while more is produced.
  public static let readyThreshold = 64 * 1024

  let streamID: Int32
  let route: RPCRouter.Route
  private let startTime: NIODeadline
  let responseEncoding: GRPCMessageEncoding
  /// `unowned(unsafe)` (a plain pointer, no reference counting on the hot path) is sound because
  /// the connection finishes or cancels every call before it goes away, and a finished call
  /// never touches its connection again.
  private unowned(unsafe) let connection: GRPCConnectionHandler
  private var headersSent = false
  /// The handler, driven by the connection as messages arrive.
  var dispatch: CallDispatch
  /// Reassembles request messages from DATA frames.
  var deframer: GRPCMessageDeframer
  /// Set by ``whenReady(_:)`` until the call is ready again or ends (the handler usually
  /// captures the call, so it must not outlive the call's end).
  private var readyHandler: (() -> Void)?
  /// An async handler's ``AsyncServerCall/send(_:)`` waiting for the call to be ready again.
  private var readyWaiter: EventLoopPromise<Void>?

  init(
    streamID: Int32,
    route: RPCRouter.Route,
    requestMetadata: [(name: String, value: String)],
    timeout: Duration?,
    responseEncoding: GRPCMessageEncoding,
    connection: GRPCConnectionHandler,
    peer: String,
    eventLoop: any EventLoop,
    startTime: NIODeadline,
    dispatch: CallDispatch,
    deframer: GRPCMessageDeframer
  ) {
    self.dispatch = dispatch
    self.deframer = deframer
    self.streamID = streamID
    self.route = route
    self.requestMetadata = requestMetadata
    self.deadline = timeout.map { startTime + TimeAmount($0) }
    self.timeout = timeout
    self.responseEncoding = responseEncoding
    self.connection = connection
    self.peer = peer
    self.eventLoop = eventLoop
    self.startTime = startTime
  }

  /// Sends one response message (a serialized payload; the runtime frames and compresses it).
  public func send(_ payload: ByteBuffer) {
    guard !self.isFinished else { return }
    var framed = self.connection.allocator.buffer(
      capacity: payload.readableBytes + GRPCMessageDeframer.prefixLength)
    do {
      try GRPCMessageFramer(encoding: self.responseEncoding).append(payload, to: &framed)
    } catch {
      self.finish(GRPCStatus(code: .internalError, message: error.message))
      return
    }
    self.send(framed: framed)
  }

  /// Runs `body` once, on the event loop, when the call is ``isReady`` again after its replies
  /// have drained; never if the call finishes first. Replaces a handler set earlier.
  public func whenReady(_ body: @escaping () -> Void) {
    self.eventLoop.preconditionInEventLoop()
    guard !self.isFinished else { return }
    if self.readyHandler == nil { self.connection.awaitReady(self) }
    self.readyHandler = body
  }

  func runReadyHandler() {
    self.readyHandler.take()?()
  }

  /// Sends for an async handler, then completes `promise` once the call can take the next
  /// message: at once while it is ready, when its replies have drained otherwise, and with
  /// `CANCELLED` once the call has ended.
  func send(_ payload: ByteBuffer, completing promise: EventLoopPromise<Void>) {
    self.send(payload)
    if self.isFinished {
      promise.fail(Self.ended)
    } else if self.isReady {
      promise.succeed()
    } else {
      self.readyWaiter = promise
      self.whenReady { self.readyWaiter.take()?.succeed() }
    }
  }

  /// Sends one message that is already length-prefixed (and compressed if it should be). When
  /// the connection already holds its limit of replies the client has not read, the call ends
  /// with `RESOURCE_EXHAUSTED` instead.
  func send(framed: ByteBuffer) {
    self.eventLoop.preconditionInEventLoop()
    guard !self.isFinished else { return }
    let queued = self.connection.queuedResponseBytes
    if queued > 0 && queued + framed.readableBytes > self.connection.maxQueuedResponseBytes {
      self.finish(
        GRPCStatus(
          code: .resourceExhausted,
          message: "the client is not reading its responses: \(queued) bytes wait for it, and"
            + " a connection holds at most \(self.connection.maxQueuedResponseBytes)"))
      return
    }
    if !self.headersSent { self.sendHeaders() }
    self.connection.sendData(framed, on: self)
    self.route.observer.sentMessage(on: self)
  }

  /// Ends the call with a status (trailers-only when nothing was sent yet).
  public func finish(_ status: GRPCStatus) {
    self.eventLoop.preconditionInEventLoop()
    guard !self.isFinished else { return }
    self.isFinished = true
    self.endReadyWaits()
    if self.headersSent {
      self.connection.sendTrailers(self.trailers(for: status), on: self)
    } else {
      self.headersSent = true
      let headers = self.responseHeaderFields() + self.trailerFields(for: status)
      self.connection.sendHeaders(NGHTTP2HeaderList(headers), endStream: true, on: self)
    }
    self.route.observer.finished(self, with: status, after: self.startTime.elapsed)
  }

  /// Marks the call as ended by the peer or the connection; nothing more is sent. A client
  /// resets the stream when its own deadline passes, a moment before ours does: that counts as
  /// `DeadlineExceeded`, any other early end as `Canceled`.
  func markCancelled() {
    guard !self.isFinished else { return }
    self.isFinished = true
    self.endReadyWaits()
    let elapsed = self.startTime.elapsed
    let code = self.timeout.map { RPCDeadline.codeForEarlyEnd(after: elapsed, timeout: $0) }
    self.route.observer.finished(
      self, with: code == .deadlineExceeded ? Self.clientDeadlinePassed : Self.clientCancelled,
      after: elapsed)
  }

  /// Lets go of what waits for the call to be ready: a pending ready handler holds the call, and
  /// an async handler's send is told the call has ended. Both are checked first: no release
  /// call on the hot path, where nothing waits.
  private func endReadyWaits() {
    if self.readyHandler != nil { self.readyHandler = nil }
    if self.readyWaiter != nil { self.readyWaiter.take()?.fail(Self.ended) }
  }

  private static let ended = GRPCStatus(code: .cancelled, message: "the call has ended")
  private static let clientCancelled = GRPCStatus(
    code: .cancelled, message: "the client cancelled the call")
  private static let clientDeadlinePassed = GRPCStatus(
    code: .deadlineExceeded, message: "the client's deadline passed")

  private func sendHeaders() {
    self.headersSent = true
    let plain = self.responseEncoding == .identity && self.initialMetadata.isEmpty
    self.connection.sendHeaders(
      plain
        ? self.connection.plainResponseHeaders : NGHTTP2HeaderList(self.responseHeaderFields()),
      endStream: false, on: self)
  }

  /// The trailers of a successful call without metadata, encoded once for every call.
  private static let okTrailers: NGHTTP2HeaderList = [
    ("grpc-status", GRPCStatus.Code.ok.headerValue)
  ]

  private func trailers(for status: GRPCStatus) -> NGHTTP2HeaderList {
    if status.code == .ok && status.message.isEmpty && self.trailingMetadata.isEmpty {
      return Self.okTrailers
    }
    return NGHTTP2HeaderList(self.trailerFields(for: status))
  }

  private func trailerFields(for status: GRPCStatus) -> [NGHTTP2HeaderField] {
    var trailers: [NGHTTP2HeaderField] = [("grpc-status", status.code.headerValue)]
    if !status.message.isEmpty {
      trailers.append(("grpc-message", GRPCStatus.percentEncode(status.message)))
    }
    trailers += self.trailingMetadata
    return trailers
  }

  private func responseHeaderFields() -> [NGHTTP2HeaderField] {
    var headers = self.connection.plainResponseHeaders.fields
    if self.responseEncoding != .identity {
      headers.append(("grpc-encoding", self.responseEncoding.headerValue))
    }
    headers += self.initialMetadata
    return headers
  }
}

@available(*, unavailable)
extension ServerCall: Sendable {}

extension GRPCCode {
  /// The metrics spelling of a wire status code; both follow the gRPC numbering.
  init(_ code: GRPCStatus.Code) {
    self = GRPCCode(rawValue: code.rawValue) ?? .unknown
  }
}

extension NIODeadline {
  fileprivate var elapsed: Duration {
    .nanoseconds((NIODeadline.now() - self).nanoseconds)
  }
}
