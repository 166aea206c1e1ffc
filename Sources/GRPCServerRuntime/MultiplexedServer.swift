import GRPCPrometheus
import HTTP1Serving
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOPosix

/// A server for one TCP port on which HTTP/2 connections are gRPC and HTTP/1.1 connections are
/// answered by an ``HTTP1Router`` (Prometheus `/metrics`, health probes): the cmux set-up of the
/// Go original, without a second listener.
public final class MultiplexedServer: Sendable {
  private let router: RPCRouter
  private let http1Router: HTTP1Router
  private let configuration: ServerRuntimeConfiguration
  private let group: any EventLoopGroup
  private let logger: Logger
  private let connections = ConnectionRegistry()
  private let listener = NIOLockedValueBox<
    (channel: any Channel, quiescing: ServerQuiescingHelper)?
  >(nil)

  /// Creates a server; every method is bound to the interceptors now (so the metrics have all
  /// their series, at zero, before the first call).
  public init(
    methods: [RPCMethodDefinition],
    http1Router: HTTP1Router,
    interceptors: [any GRPCServerInterceptor],
    configuration: ServerRuntimeConfiguration = .defaults,
    group: any EventLoopGroup,
    logger: Logger
  ) {
    self.router = RPCRouter(methods: methods, interceptors: interceptors)
    self.http1Router = http1Router
    self.configuration = configuration
    self.group = group
    self.logger = logger
  }

  /// Binds the port and starts accepting connections; returns the bound address (ask for port 0
  /// to get an ephemeral one).
  public func start(host: String, port: Int) async throws -> SocketAddress {
    let quiescing = ServerQuiescingHelper(group: self.group)
    let bootstrap = ServerBootstrap.listening(
      group: self.group, quiescing: quiescing,
      maxConnections: self.configuration.maxConnections, logger: self.logger
    ) { channel in
      channel.eventLoop.makeCompletedFuture {
        self.connections.add(channel)
        try channel.pipeline.syncOperations.addHandler(self.makeConnectionHandler())
      }
    }
    .childChannelOption(.maxMessagesPerRead, value: 16)
    let channel = try await bootstrap.bind(host: host, port: port).get()
    self.listener.withLockedValue { $0 = (channel, quiescing) }
    guard let address = channel.localAddress else {
      throw MultiplexedServerError(message: "the listening socket has no local address")
    }
    return address
  }

  /// Stops accepting, asks every connection to finish (GOAWAY; HTTP/1.1 connections close after
  /// their response), waits for in-flight RPCs up to `gracePeriod`, then closes what is left.
  public func shutdown(gracePeriod: Duration) async {
    guard let (_, quiescing) = self.listener.withLockedValue({ $0.take() }) else { return }
    let drained = self.group.next().makePromise(of: Void.self)
    quiescing.initiateShutdown(promise: drained)
    let deadline = drained.futureResult.eventLoop.scheduleTask(in: TimeAmount(gracePeriod)) {
      self.logger.warning(
        "grace period over; closing connections with RPCs still in flight",
        metadata: ["connections": "\(self.connections.count)"])
      self.connections.closeAll()
    }
    try? await drained.futureResult.get()
    deadline.cancel()
  }

  /// The first handler of a new connection: it tells HTTP/2 from HTTP/1.1 and installs the rest.
  /// The listener adds it to every accepted channel; the fuzzers drive it on an `EmbeddedChannel`.
  package func makeConnectionHandler() -> any ChannelHandler {
    ProtocolSniffingHandler(
      prefaceTimeout: self.configuration.prefaceTimeout,
      http1Limits: self.configuration.http1,
      http1Router: self.http1Router
    ) { eventLoop in
      GRPCConnectionHandler(
        router: self.router, configuration: self.configuration, logger: self.logger,
        eventLoop: eventLoop)
    }
  }
}

/// A failure to start the server.
public struct MultiplexedServerError: Error, CustomStringConvertible {
  /// What went wrong.
  public var message: String
  /// The message.
  public var description: String { self.message }
}
