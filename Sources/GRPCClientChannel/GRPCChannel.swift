import GRPCPrometheus
import GRPCWire
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A gRPC client channel on the project's nghttp2 layer: one HTTP/2 connection per address the
/// server's name (or each of a list of targets) resolves to, calls spread round-robin over the
/// ready ones, names resolved again periodically and before every reconnect, reconnects with
/// backoff, a deadline on every call, and interceptor hooks around every call.
///
/// A call runs on the event loop of the connection it is given to, and its future completes
/// there (a caller on an event loop can have the result handed to it there instead, without a
/// future): with one event loop (the usual set-up) there is no hop at all.
public final class GRPCChannel: Sendable {
  /// Resolves targets to addresses; `AddressResolver.resolve` outside tests.
  typealias Resolver =
    @Sendable ([GRPCChannelConfiguration.Target], any EventLoop) -> EventLoopFuture<[SocketAddress]>

  private struct State {
    var subchannels: [GRPCSubchannel] = []
    var picker = RoundRobinPicker()
    var isShutdown = false
    /// Resolves the names again every `resolveInterval`.
    var periodicResolution: RepeatedTask?
  }

  /// Where the channel connects and how.
  public let configuration: GRPCChannelConfiguration
  private let group: any EventLoopGroup
  private let interceptors: [any GRPCClientInterceptor]
  private let logger: Logger
  private let resolve: Resolver
  private let state = NIOLockedValueBox(State())

  /// Creates a channel; nothing connects until ``start()``.
  public convenience init(
    configuration: GRPCChannelConfiguration,
    group: any EventLoopGroup,
    interceptors: [any GRPCClientInterceptor],
    logger: Logger
  ) {
    self.init(
      configuration: configuration, group: group, interceptors: interceptors, logger: logger,
      resolve: AddressResolver.resolve)
  }

  init(
    configuration: GRPCChannelConfiguration,
    group: any EventLoopGroup,
    interceptors: [any GRPCClientInterceptor],
    logger: Logger,
    resolve: @escaping Resolver
  ) {
    self.configuration = configuration
    self.group = group
    self.interceptors = interceptors
    self.logger = logger
    self.resolve = resolve
  }

  /// Registers a method with every interceptor (the metrics create its series now) and returns
  /// the handle calls are made with.
  public func method(_ method: GRPCMethod) -> GRPCClientMethod {
    GRPCClientMethod(
      method: method, authority: self.configuration.authority,
      observers: self.interceptors.map { $0.bind(to: method) })
  }

  /// Resolves the server's name, starts connecting to every address, and from then on resolves
  /// it again every ``GRPCChannelConfiguration/resolveInterval``.
  public func start() async {
    try? await self.refreshAddresses().get()
    guard let interval = self.configuration.resolveInterval else { return }
    let delay = TimeAmount(interval)
    let task = self.group.any().scheduleRepeatedTask(initialDelay: delay, delay: delay) {
      [weak self] _ in
      _ = self?.refreshAddresses()
    }
    self.state.withLockedValue { state in
      if state.isShutdown { task.cancel() } else { state.periodicResolution = task }
    }
  }

  /// The addresses the channel holds connections for.
  public var addresses: [SocketAddress] {
    self.state.withLockedValue { $0.subchannels.map(\.address) }
  }

  /// Starts a unary call with a serialized request. The future never fails: every outcome,
  /// `UNAVAILABLE` for want of a connection included, is a status in the result.
  ///
  /// - Parameter deadline: how long the call may take; the configuration's default when nil.
  public func unary(
    _ method: GRPCClientMethod,
    request: ByteBuffer,
    deadline: Duration? = nil
  ) -> GRPCUnaryCall {
    var future: EventLoopFuture<GRPCUnaryResult>?
    let cancellation = self.start(method, request: request, deadline: deadline) { eventLoop in
      let promise = eventLoop.makePromise(of: GRPCUnaryResult.self)
      future = promise.futureResult
      return { promise.succeed($0) }
    }
    return GRPCUnaryCall(result: future!, cancellation: cancellation)
  }

  /// Starts a unary call with a serialized request and hands its outcome to `onResult` once, on
  /// `eventLoop`, which it must be called on: the same call as ``unary(_:request:deadline:)``
  /// without a future, for a caller that is on an event loop anyway (an HTTP handler). The
  /// outcome is never an error: every outcome, `UNAVAILABLE` for want of a connection
  /// included, is a status in the result. With one event loop the call runs on it; otherwise the result
  /// hops to it.
  ///
  /// - Parameter deadline: how long the call may take; the configuration's default when nil.
  public func unary(
    _ method: GRPCClientMethod,
    request: ByteBuffer,
    deadline: Duration? = nil,
    on eventLoop: any EventLoop,
    onResult: @escaping (GRPCUnaryResult) -> Void
  ) -> GRPCCallCancellation {
    let onResult = NIOLoopBound(onResult, eventLoop: eventLoop)
    return self.start(method, request: request, deadline: deadline) { callLoop in
      if callLoop === eventLoop { return { onResult.value($0) } }
      return { result in eventLoop.execute { onResult.value(result) } }
    }
  }

  /// Starts a call on the next connection. `finish`, asked at once with the event loop the call
  /// runs on, says what to do with its result there.
  private func start(
    _ method: GRPCClientMethod, request: ByteBuffer, deadline: Duration?,
    finish: (any EventLoop) -> @Sendable (GRPCUnaryResult) -> Void
  ) -> GRPCCallCancellation {
    let startTime = ContinuousClock.now
    method.started()
    guard let subchannel = self.pickSubchannel() else {
      let eventLoop = self.group.any()
      let onFinish = finish(eventLoop)
      let lastFailure = self.state.withLockedValue {
        $0.subchannels.lazy.compactMap(\.lastFailure).first
      }
      let status = GRPCStatus(
        code: .unavailable,
        message: "no connection to \(self.configuration.authority) ("
          + (lastFailure ?? "the server is down or unreachable")
          + "); the channel keeps reconnecting")
      let elapsed = ContinuousClock.now - startTime
      method.finished(status.code, after: elapsed)
      let result = GRPCUnaryResult(
        status: status, message: nil, metadata: [], peer: nil, elapsed: elapsed,
        isServerStatus: false)
      eventLoop.execute { onFinish(result) }
      return .ended
    }
    let eventLoop = subchannel.eventLoop
    let onFinish = finish(eventLoop)
    let timeout = deadline ?? self.configuration.defaultDeadline
    let maxResponseSize = self.configuration.maxResponseMessageSize
    if eventLoop.inEventLoop {
      let call = ClientCall(
        method: method, request: request, timeout: timeout, maxResponseSize: maxResponseSize,
        startTime: startTime, eventLoop: eventLoop, onFinish: onFinish)
      subchannel.start(call)
      return .started(call)
    }
    let box = NIOLoopBoundBox<ClientCall?>.makeEmptyBox(eventLoop: eventLoop)
    eventLoop.execute {
      let call = ClientCall(
        method: method, request: request, timeout: timeout, maxResponseSize: maxResponseSize,
        startTime: startTime, eventLoop: eventLoop, onFinish: onFinish)
      box.value = call
      subchannel.start(call)
    }
    return .starting(box)
  }

  /// The connection for the next call: round robin over the ready ones (a connecting one when
  /// none is ready); nil when there is none.
  private func pickSubchannel() -> GRPCSubchannel? {
    self.state.withLockedValue { state in
      guard !state.isShutdown else { return nil }
      let subchannels = state.subchannels
      return state.picker.pick(count: subchannels.count) { subchannels[$0].connectivity }
        .map { subchannels[$0] }
    }
  }

  /// Starts a call that the connection to `peer` could not take, and that never reached a
  /// server (its stream was refused, or it waited for a connection that failed), on another
  /// connection of its own event loop (where its caller can cancel it): another address's when
  /// one is up or connecting, otherwise `peer`'s own next connection. Ends it with `status`
  /// when there is none.
  private func reroute(_ call: ClientCall, awayFrom peer: String, otherwise status: GRPCStatus) {
    let picked = self.state.withLockedValue { state -> GRPCSubchannel? in
      guard !state.isShutdown else { return nil }
      let local = state.subchannels.filter { $0.eventLoop === call.eventLoop }
      let others = local.filter { $0.peer != peer }
      // A picker of its own, from a random start: the channel's would lose its rotation over
      // a differently sized list, and one from the first would send every rerouted call of a
      // drain to the same replica.
      var picker = RoundRobinPicker(startingAt: Int.random(in: 0..<max(local.count, 1)))
      return [others, local].lazy.compactMap { candidates in
        picker.pick(count: candidates.count) { candidates[$0].connectivity }.map { candidates[$0] }
      }.first
    }
    guard let picked else {
      call.finish(status, message: nil, peer: nil)
      return
    }
    picked.start(call)
  }

  /// Stops taking calls, lets the calls in flight finish (their deadlines bound the wait) and
  /// closes every connection.
  public func shutdown() async {
    let subchannels = self.state.withLockedValue { state in
      state.isShutdown = true
      state.periodicResolution?.cancel()
      state.periodicResolution = nil
      return state.subchannels
    }
    for subchannel in subchannels {
      try? await subchannel.eventLoop.submit { subchannel.shutdown() }.get()
    }
  }

  /// Re-resolves the name, opens connections to new addresses, drops those gone, and lets
  /// subchannels waiting to reconnect do so. A failed resolution keeps the known addresses.
  private func refreshAddresses() -> EventLoopFuture<Void> {
    let eventLoop = self.group.any()
    return self.resolve(self.configuration.targets, eventLoop).map {
      addresses -> [SocketAddress]? in
      addresses
    }.recover { error in
      self.logger.warning(
        "cannot resolve the server", metadata: ["error": "\(error)"])
      return nil
    }.map { addresses in
      self.reconcile(addresses)
    }
  }

  private func reconcile(_ addresses: [SocketAddress]?) {
    let (current, removed) = self.state.withLockedValue { state in
      guard !state.isShutdown else { return ([GRPCSubchannel](), [GRPCSubchannel]()) }
      guard let addresses, !addresses.isEmpty else { return (state.subchannels, []) }
      var kept: [GRPCSubchannel] = []
      var removed: [GRPCSubchannel] = []
      for subchannel in state.subchannels {
        if addresses.contains(subchannel.address) {
          kept.append(subchannel)
        } else {
          removed.append(subchannel)
        }
      }
      for address in addresses where !kept.contains(where: { $0.address == address }) {
        kept.append(self.makeSubchannel(address))
      }
      state.subchannels = kept
      return (kept, removed)
    }
    for subchannel in removed {
      subchannel.eventLoop.execute { subchannel.shutdown() }
    }
    for subchannel in current {
      subchannel.eventLoop.execute { subchannel.connectIfIdle() }
    }
  }

  private func makeSubchannel(_ address: SocketAddress) -> GRPCSubchannel {
    GRPCSubchannel(
      address: address,
      eventLoop: self.group.next(),
      configuration: self.configuration,
      logger: self.logger
    ) { [weak self] in
      _ = self?.refreshAddresses()
    } reroute: { [weak self] call, peer, status in
      guard let self else {
        call.finish(status, message: nil, peer: nil)
        return
      }
      self.reroute(call, awayFrom: peer, otherwise: status)
    }
  }
}
