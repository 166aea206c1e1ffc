import NIOCore
import NIOExtras
import NIOPosix

extension ServerBootstrap {
  /// The listening set-up every server of this project shares: a deep accept backlog,
  /// `SO_REUSEADDR` so a restart can rebind at once, `TCP_NODELAY` on accepted connections (small
  /// request/response exchanges must not wait for Nagle), and `quiescing` on the listener so a
  /// graceful shutdown reaches every connection. Callers add their child channel initializer.
  public static func listening(
    group: any EventLoopGroup, quiescing: ServerQuiescingHelper
  ) -> ServerBootstrap {
    ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 1024)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .serverChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(
            quiescing.makeServerChannelHandler(channel: channel))
        }
      }
      .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
  }
}
