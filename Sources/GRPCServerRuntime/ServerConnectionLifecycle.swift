import NIOCore

/// How and when a server connection ends, as a value: idleness, keepalive, graceful shutdown and
/// the linger after our side of the socket has shut.
///
/// The connection handler reports what happens, with the time it happened, and carries out the
/// answers: sending GOAWAY or PING, arming timers, closing the socket. Nothing here touches a
/// channel or a clock, so tests drive it with any times they like.
struct ServerConnectionLifecycle {
  /// How long a closing connection waits for the client's next bytes (an idle client that never
  /// notices the FIN costs no more than this, at shutdown too).
  static let lingerSilence = TimeAmount.milliseconds(500)
  /// The longest a closing connection waits for a client that keeps sending.
  static let lingerLimit = TimeAmount.seconds(5)
  /// Between a graceful shutdown's GOAWAY notice and its final GOAWAY: long enough for streams
  /// the client opened before it saw the notice to arrive (RFC 9113 §6.8).
  static let goAwayNoticePeriod = TimeAmount.seconds(1)

  /// What a read is for.
  enum ReadDecision: Equatable {
    /// Hand the bytes to the session.
    case receive
    /// Drop them: our side is shut. `extendLinger` says whether to wait another
    /// ``lingerSilence`` for the client to close (false once ``lingerLimit`` has passed).
    case drop(extendLinger: Bool)
  }

  /// What an idle check found.
  enum IdleDecision: Equatable {
    /// Idle for the whole timeout: send the final GOAWAY.
    case goAway
    /// Not idle (yet): look again then.
    case checkAgain(at: NIODeadline)
  }

  private let idleTimeout: TimeAmount
  private let keepaliveTimeout: TimeAmount
  /// After this long without a byte from the client, a PING asks whether it is still there.
  let keepaliveInterval: TimeAmount?

  /// When bytes last arrived: keepalive pings only a silent client, and only a silent
  /// connection counts as idle. It is also when a call starts: the read that brought its
  /// headers (one clock reading per read instead of one per call).
  private(set) var lastRead: NIODeadline
  /// True once a graceful shutdown has begun.
  private(set) var isQuiescing = false
  /// Set once the connection is expected to end: a GOAWAY said on purpose (by the client, our
  /// drain or our idle timeout) or an error already logged. A connection nghttp2 ends without
  /// one of these was ended for breaking the protocol or its limits, which is worth a log line.
  private(set) var isEndExpected = false
  /// Since when our side of the socket is shut, if it is.
  private var lingeringSince: NIODeadline?

  /// The lifecycle of a connection that opened at `now`.
  init(configuration: ServerRuntimeConfiguration, now: NIODeadline) {
    self.idleTimeout = configuration.idleTimeout
    self.keepaliveInterval = configuration.keepaliveInterval
    self.keepaliveTimeout = configuration.keepaliveTimeout
    self.lastRead = now
  }

  /// True once our side of the socket is shut and the connection only waits for the client's.
  var isLingering: Bool { self.lingeringSince != nil }

  /// When the first idle check is due.
  var firstIdleCheck: NIODeadline { self.lastRead + self.idleTimeout }

  /// Bytes arrived at `now`.
  mutating func bytesArrived(at now: NIODeadline) -> ReadDecision {
    guard let since = self.lingeringSince else {
      self.lastRead = now
      return .receive
    }
    return .drop(extendLinger: now - since < Self.lingerLimit)
  }

  /// The idle timer fired at `now`.
  mutating func idleCheck(at now: NIODeadline, hasOpenCalls: Bool) -> IdleDecision {
    if hasOpenCalls { return .checkAgain(at: now + self.idleTimeout) }
    let silentUntil = self.lastRead + self.idleTimeout
    guard now >= silentUntil else { return .checkAgain(at: silentUntil) }
    self.isEndExpected = true
    return .goAway
  }

  /// The keepalive timer fired at `now`: true when the client has been silent for a whole
  /// interval and is to be pinged.
  func shouldPing(at now: NIODeadline) -> Bool {
    guard let interval = self.keepaliveInterval else { return false }
    return now - self.lastRead >= interval
  }

  /// When a PING sent at `sentAt` must have been answered by.
  func pingDeadline(sentAt: NIODeadline) -> NIODeadline {
    sentAt + self.keepaliveTimeout
  }

  /// The answer deadline of a PING sent at `sentAt` passed: true when nothing arrived since,
  /// and the connection is to be closed.
  func isPingUnanswered(sentAt: NIODeadline) -> Bool {
    self.lastRead < sentAt
  }

  /// A graceful shutdown was asked for: true the first time, when the GOAWAY notice is to be
  /// sent and the final GOAWAY ``goAwayNoticePeriod`` later.
  mutating func quiesce() -> Bool {
    guard !self.isQuiescing else { return false }
    self.isQuiescing = true
    self.isEndExpected = true
    return true
  }

  /// The client sent GOAWAY: it opens no new streams, and the connection closes once the open
  /// ones finish.
  mutating func clientSentGoAway() {
    self.isEndExpected = true
  }

  /// The connection failed for a reason already logged.
  mutating func failed() {
    self.isEndExpected = true
  }

  /// Our side of the socket shuts at `now`: true the first time, when the shutdown and the
  /// linger timer are due.
  mutating func beginLinger(at now: NIODeadline) -> Bool {
    guard self.lingeringSince == nil else { return false }
    self.lingeringSince = now
    return true
  }
}
