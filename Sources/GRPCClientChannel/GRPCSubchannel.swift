import GRPCWire
import Logging
import NGHTTP2
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization

/// The connection to one resolved server address: connects, reconnects with backoff after a
/// failure, replaces a connection that received GOAWAY, and starts the calls the picker gives it.
///
/// Its state lives on its event loop; only its connectivity is read from elsewhere (by the
/// picker), through an atomic.
final class GRPCSubchannel: Sendable {
  private enum Phase {
    /// Not connected and not trying: the reconnect timer fired, re-resolution is under way.
    case idle
    /// Opening a TCP connection; these calls start once it is ready.
    case connecting([ClientCall])
    /// Connected; waiting, until the timer, for the server's SETTINGS: a peer that is not an
    /// HTTP/2 server (or none at all behind a proxy) fails here, and counts as a failed attempt.
    case handshaking(GRPCClientConnectionHandler, [ClientCall], timer: Scheduled<Void>)
    case ready(GRPCClientConnectionHandler)
    case backoff(Scheduled<Void>)
    case shutdown
  }

  private struct LoopState {
    var phase = Phase.idle
    var failedAttempts = 0
    /// Connections that received GOAWAY and finish their calls before closing.
    var draining: [ObjectIdentifier: GRPCClientConnectionHandler] = [:]
    /// One timer for the deadlines of every call started here.
    var deadlines: CallDeadlineTimer
  }

  let address: SocketAddress
  let eventLoop: any EventLoop
  private let configuration: GRPCChannelConfiguration
  private let logger: Logger
  /// Called when the reconnect timer fires, to re-resolve the name before connecting again.
  private let reconnectDue: @Sendable () -> Void
  /// Called on the event loop with a call this address could not take and that never reached
  /// it (its stream was refused, see `ClientCall.takeRetry(afterClose:)`, or it waited for a
  /// connection that failed), to start it on another connection or end it with the status.
  private let reroute: @Sendable (ClientCall, _ awayFrom: String, _ otherwise: GRPCStatus) -> Void
  private let connectivityValue = Atomic<UInt8>(RoundRobinPicker.Connectivity.connecting.rawValue)
  private let lastFailureValue = NIOLockedValueBox<String?>(nil)
  private let state: NIOLoopBoundBox<LoopState>

  init(
    address: SocketAddress,
    eventLoop: any EventLoop,
    configuration: GRPCChannelConfiguration,
    logger: Logger,
    reconnectDue: @escaping @Sendable () -> Void,
    reroute: @escaping @Sendable (ClientCall, _ awayFrom: String, _ otherwise: GRPCStatus) -> Void
  ) {
    self.reroute = reroute
    self.address = address
    self.eventLoop = eventLoop
    self.configuration = configuration
    self.logger = logger
    self.reconnectDue = reconnectDue
    self.state = .makeBoxSendingValue(
      LoopState(deadlines: CallDeadlineTimer(eventLoop: eventLoop)), eventLoop: eventLoop)
  }

  /// Where the subchannel stands, for the picker.
  var connectivity: RoundRobinPicker.Connectivity {
    RoundRobinPicker.Connectivity(rawValue: self.connectivityValue.load(ordering: .relaxed))
      ?? .unavailable
  }

  /// Why the last connection attempt failed, until one succeeds: what calls that find no
  /// connection are told (as gRPC clients report the last connection error during backoff).
  var lastFailure: String? {
    self.lastFailureValue.withLockedValue { $0 }
  }

  /// `host:port` of the address.
  var peer: String {
    "\(self.address.ipAddress ?? "?"):\(self.address.port ?? 0)"
  }

  // MARK: On the event loop

  /// Starts a call picked for this subchannel; hands it back to the channel for another address
  /// when there is no connection after all.
  func start(_ call: ClientCall) {
    self.eventLoop.assertInEventLoop()
    call.armDeadline(on: self.state.value.deadlines)
    switch self.state.value.phase {
    case .ready(let connection):
      connection.start(call)
    case .connecting(var waiting):
      waiting.append(call)
      self.state.value.phase = .connecting(waiting)
    case .handshaking(let connection, var waiting, let timer):
      waiting.append(call)
      self.state.value.phase = .handshaking(connection, waiting, timer: timer)
    case .idle:
      self.connect()
      self.state.value.phase = .connecting([call])
    case .backoff, .shutdown:
      // Picked while this address still looked usable (the picker reads connectivity from
      // another thread); the call never reached it, so another address may take it.
      self.reroute(call, self.peer, self.unavailable("no connection to \(self.peer)"))
    }
  }

  /// Connects unless connected, connecting or shut down.
  func connectIfIdle() {
    self.eventLoop.assertInEventLoop()
    guard case .idle = self.state.value.phase else { return }
    self.connect()
  }

  /// Stops reconnecting, hands waiting calls back to the channel (another address takes them
  /// unless the whole channel is shutting down), and closes connections once their calls end.
  func shutdown() {
    self.eventLoop.assertInEventLoop()
    let phase = self.state.value.phase
    self.state.value.phase = .shutdown
    self.setConnectivity(.unavailable)
    switch phase {
    case .connecting(let waiting):
      for call in waiting {
        self.reroute(call, self.peer, self.unavailable("the channel is shutting down"))
      }
    case .handshaking(let connection, let waiting, let timer):
      timer.cancel()
      connection.closeWhenIdle()
      for call in waiting {
        self.reroute(call, self.peer, self.unavailable("the channel is shutting down"))
      }
    case .ready(let connection):
      connection.closeWhenIdle()
    case .backoff(let timer):
      timer.cancel()
    case .idle, .shutdown:
      break
    }
    for connection in self.state.value.draining.values { connection.closeWhenIdle() }
  }

  private func connect() {
    self.state.value.phase = .connecting([])
    self.setConnectivity(.connecting)
    let events = GRPCClientConnectionHandler.Events(
      ready: { [self] connection in self.connectionReady(connection) },
      goingAway: { [self] connection in self.connectionGoingAway(connection) },
      closed: { [self] connection in self.connectionClosed(connection) },
      refused: { [self] call in
        self.reroute(
          call, self.peer,
          self.unavailable("\(self.peer) refused the call and no other connection can take it"))
      })
    let connection = GRPCClientConnectionHandler(
      peer: self.peer, settings: self.configuration.http2Settings, logger: self.logger,
      events: events)
    let bound = NIOLoopBound(connection, eventLoop: self.eventLoop)
    // TCP_NODELAY is on: ClientBootstrap sets it by default.
    ClientBootstrap(group: self.eventLoop)
      .connectTimeout(TimeAmount(self.configuration.connectTimeout))
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(bound.value)
        }
      }
      .connect(to: self.address)
      .assumeIsolated()
      .whenComplete { result in
        switch result {
        case .success:
          self.connected(bound.value)
        case .failure(let error):
          self.connectFailed(error)
        }
      }
  }

  /// TCP is up: the server's SETTINGS are due within the connect timeout too.
  private func connected(_ connection: GRPCClientConnectionHandler) {
    guard case .connecting(let waiting) = self.state.value.phase else {
      connection.closeWhenIdle()  // Shut down while connecting.
      return
    }
    let timeout = self.configuration.connectTimeout
    let timer = self.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) {
      guard case .handshaking(let current, _, _) = self.state.value.phase, current === connection
      else { return }
      self.connectFailed(HandshakeFailure.noSettings(within: timeout))
      connection.closeWhenIdle()
    }
    self.state.value.phase = .handshaking(connection, waiting, timer: timer)
  }

  /// The server's SETTINGS arrived: only now has an attempt succeeded.
  private func connectionReady(_ connection: GRPCClientConnectionHandler) {
    guard case .handshaking(let current, let waiting, let timer) = self.state.value.phase,
      current === connection
    else { return }
    timer.cancel()
    self.state.value.phase = .ready(connection)
    self.state.value.failedAttempts = 0
    self.lastFailureValue.withLockedValue { $0 = nil }
    self.setConnectivity(.ready)
    for call in waiting where !call.isFinished {
      connection.start(call)
    }
  }

  private func connectFailed(_ error: any Error) {
    let waiting: [ClientCall]
    switch self.state.value.phase {
    case .connecting(let calls):
      waiting = calls
    case .handshaking(_, let calls, let timer):
      timer.cancel()
      waiting = calls
    case .idle, .ready, .backoff, .shutdown:
      return
    }
    self.logger.debug(
      "cannot connect to the server", metadata: ["peer": "\(self.peer)", "error": "\(error)"])
    let failure = "cannot connect to \(self.peer): \(error)"
    self.lastFailureValue.withLockedValue { $0 = failure }
    // Backing off first takes this address out of the picker, so the waiting calls go to
    // another one (a call picked just before a GOAWAY made this address reconnect) or fail.
    self.scheduleReconnect()
    for call in waiting {
      self.reroute(call, self.peer, self.unavailable(failure))
    }
  }

  private func connectionGoingAway(_ connection: GRPCClientConnectionHandler) {
    guard case .ready(let current) = self.state.value.phase, current === connection else { return }
    self.state.value.draining[ObjectIdentifier(connection)] = connection
    // The server asked for a new connection, not a pause: open it now.
    self.connect()
  }

  private func connectionClosed(_ connection: GRPCClientConnectionHandler) {
    if self.state.value.draining.removeValue(forKey: ObjectIdentifier(connection)) != nil {
      return
    }
    if case .handshaking(let current, _, _) = self.state.value.phase, current === connection {
      self.connectFailed(HandshakeFailure.closed)
      return
    }
    guard case .ready(let current) = self.state.value.phase, current === connection else { return }
    self.logger.debug("connection to the server lost", metadata: ["peer": "\(self.peer)"])
    self.scheduleReconnect()
  }

  private func scheduleReconnect() {
    self.setConnectivity(.unavailable)
    let delay = self.configuration.backoff.delay(
      attempt: self.state.value.failedAttempts, random: Double.random(in: 0...1))
    self.state.value.failedAttempts += 1
    let timer = self.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) {
      guard case .backoff = self.state.value.phase else { return }
      self.state.value.phase = .idle
      self.reconnectDue()
    }
    self.state.value.phase = .backoff(timer)
  }

  private func setConnectivity(_ connectivity: RoundRobinPicker.Connectivity) {
    self.connectivityValue.store(connectivity.rawValue, ordering: .relaxed)
  }

  private func unavailable(_ message: String) -> GRPCStatus {
    GRPCStatus(code: .unavailable, message: message)
  }
}

/// Why a connection that TCP opened never became ready.
private enum HandshakeFailure: Error, CustomStringConvertible {
  case noSettings(within: Duration)
  case closed

  var description: String {
    switch self {
    case .noSettings(let timeout):
      "the server sent no HTTP/2 SETTINGS within \(timeout) of connecting"
    case .closed:
      "the connection closed before the server's HTTP/2 SETTINGS (not an HTTP/2 server?)"
    }
  }
}
