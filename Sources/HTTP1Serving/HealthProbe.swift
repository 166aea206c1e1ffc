import NIOCore
import NIOPosix

/// Asks a running server's `GET /healthz` whether it is serving: the Docker health check.
public enum HealthProbe {
  /// The outcome of one probe.
  public enum Result: Sendable, Equatable {
    /// `200`: serving.
    case healthy
    /// Any other HTTP status, with the body the server gave.
    case unhealthy(status: Int, body: String)
    /// No HTTP answer at all (refused, timed out, garbage).
    case unreachable(String)

    /// Whether the probed process is serving: what a health check's exit code says.
    public var isHealthy: Bool { self == .healthy }

    /// One line for the health check's output.
    public var summary: String {
      switch self {
      case .healthy: "serving"
      case .unhealthy(let status, let body): "not serving: HTTP \(status) \(body)"
      case .unreachable(let reason): "unreachable: \(reason)"
      }
    }
  }

  /// Probes `host:port` over HTTP/1.1, giving up after `timeout`.
  public static func check(
    host: String, port: Int, timeout: TimeAmount = .seconds(3)
  ) async
    -> Result
  {
    let group = MultiThreadedEventLoopGroup.singleton
    let response = group.next().makePromise(of: ByteBuffer.self)
    do {
      let channel = try await ClientBootstrap(group: group)
        .connectTimeout(timeout)
        .channelInitializer { channel in
          channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ResponseCollector(response))
          }
        }
        .connect(host: host, port: port)
        .get()
      let request = "GET /healthz HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n"
      try await channel.writeAndFlush(ByteBuffer(string: request))
      channel.eventLoop.scheduleTask(in: timeout) {
        response.fail(ChannelError.connectTimeout(timeout))
        channel.close(promise: nil)
      }
      return Self.parse(try await response.futureResult.get())
    } catch {
      response.fail(error)
      return .unreachable("\(error)")
    }
  }

  static func parse(_ buffer: ByteBuffer) -> Result {
    let text = String(buffer: buffer)
    let parts = text.split(separator: " ", maxSplits: 2)
    guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
      return .unreachable("not an HTTP response: \(text.prefix(60))")
    }
    let body = text.split(separator: "\r\n\r\n", maxSplits: 1).dropFirst().first.map(String.init)
    return status == 200 ? .healthy : .unhealthy(status: status, body: body ?? "")
  }
}

/// Collects a whole response until the server closes the connection.
private final class ResponseCollector: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer

  private let promise: EventLoopPromise<ByteBuffer>
  private var received = ByteBuffer()

  init(_ promise: EventLoopPromise<ByteBuffer>) {
    self.promise = promise
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    var bytes = self.unwrapInboundIn(data)
    self.received.writeBuffer(&bytes)
  }

  func channelInactive(context: ChannelHandlerContext) {
    self.promise.succeed(self.received)
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    self.promise.fail(error)
    context.close(promise: nil)
  }
}
