import Logging
import NIOCore
import NIOExtras
import NIOPosix

extension ServerBootstrap {
  /// How many connections a listener takes at once unless configured otherwise.
  public static let defaultMaxConnections = 10_000

  /// The listening set-up every server of this project shares: a deep accept backlog,
  /// `SO_REUSEADDR` so a restart can rebind at once, `TCP_NODELAY` on accepted connections (NIO's
  /// default, inherited from the listener: small request/response exchanges must not wait for
  /// Nagle), `quiescing` on the listener so a graceful shutdown reaches every connection, a pause
  /// instead of a busy loop when accepting fails (`AcceptFailureHandler`), and at most
  /// `maxConnections` open at once (``ConnectionLimit``). `childChannelInitializer` sets up each
  /// connection admitted.
  public static func listening(
    group: any EventLoopGroup, quiescing: ServerQuiescingHelper, maxConnections: Int,
    logger: Logger,
    childChannelInitializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
  ) -> ServerBootstrap {
    let limit = ConnectionLimit(maxConnections: maxConnections, logger: logger)
    return ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 1024)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .serverChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          let pipeline = channel.pipeline.syncOperations
          try pipeline.addHandler(AcceptFailureHandler(logger: logger))
          try pipeline.addHandler(quiescing.makeServerChannelHandler(channel: channel))
        }
      }
      .childChannelInitializer { channel in
        guard limit.admit(channel) else {
          return channel.eventLoop.makeFailedFuture(ConnectionLimit.Reached())
        }
        return childChannelInitializer(channel)
      }
  }
}

/// Keeps a listener alive when accepting fails, which is nearly always the process running out
/// of file descriptors (`EMFILE`): accepting pauses for ``retryDelay`` and then tries again,
/// connections already open are served meanwhile, and the log gets one warning when accepting
/// starts failing and one line when it works again, however many attempts fail in between.
///
/// The pause is what matters. NIO's `ServerBootstrap.bind` retries at once: its listening socket
/// stays readable while connections wait in the backlog, so the event loop spun on failing
/// `accept` calls (a whole core, measured) until a descriptor came free. NIO's own
/// `AcceptBackoffHandler` does not stop that, because a failed accept leaves the listener's read
/// pending; turning `autoRead` off does (the listener stops watching for readability).
final class AcceptFailureHandler: ChannelInboundHandler {
  typealias InboundIn = any Channel
  typealias InboundOut = any Channel

  /// How long accepting pauses after a failure: short enough that waiting clients are hardly
  /// delayed once descriptors are free, long enough that retrying costs nothing.
  static let retryDelay = TimeAmount.milliseconds(100)

  private let logger: Logger
  private var isFailing = false
  private var resumption: Scheduled<Void>?

  init(logger: Logger) {
    self.logger = logger
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    if self.isFailing {
      self.isFailing = false
      self.logger.notice("accepting connections again")
    }
    context.fireChannelRead(data)
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    // A connection over the limit was accepted and closed: accepting itself works.
    if error is ConnectionLimit.Reached { return }
    if !self.isFailing {
      self.isFailing = true
      self.logger.warning(
        "cannot accept connections; retrying every \(Self.retryDelay.nanoseconds / 1_000_000) ms",
        metadata: ["error": "\(error)"])
    }
    self.pauseAccepting(context: context)
    context.fireErrorCaught(error)
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    self.resumption?.cancel()
    self.resumption = nil
  }

  private func pauseAccepting(context: ChannelHandlerContext) {
    guard self.resumption == nil, let options = context.channel.syncOptions else { return }
    // Fails only on a listener already closed, which accepts nothing anyway.
    try? options.setOption(.autoRead, value: false)
    let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
    let channel = context.channel
    self.resumption = context.eventLoop.scheduleTask(in: Self.retryDelay) {
      handler.value.resumption = nil
      try? channel.syncOptions?.setOption(.autoRead, value: true)
    }
  }
}

@available(*, unavailable)
extension AcceptFailureHandler: Sendable {}
