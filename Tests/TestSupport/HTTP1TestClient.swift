import NIOCore
import NIOPosix

/// One HTTP/1.1 response as read off the wire.
public struct HTTP1TestResponse: Sendable {
  /// The status code of the status line.
  public var status: Int
  /// The header fields in the order received, names as sent.
  public var headers: [(name: String, value: String)]
  /// The body, decoded as UTF-8.
  public var body: String

  /// The value of the first header named `name` (compared case-insensitively), if any.
  public func header(_ name: String) -> String? {
    self.headers.first { $0.name.lowercased() == name.lowercased() }?.value
  }
}

/// A deliberately small HTTP/1.1 client: one request per connection (`Connection: close`), the
/// response read until the server closes, parsed by hand. Independent of the server's own HTTP
/// code (NIOHTTP1), so it checks the bytes a scraper or probe would see.
public enum HTTP1TestClient {
  /// Sends one request and returns the parsed response; throws if no complete response arrives
  /// within `timeout`.
  public static func request(
    _ method: String,
    _ path: String,
    host: String,
    port: Int,
    headers: [(String, String)] = [],
    body: String = "",
    timeout: Duration = .seconds(5)
  ) async throws -> HTTP1TestResponse {
    let raw = try await withTimeout(timeout, "\(method) \(path)") {
      try await Self.exchange(
        Self.requestText(method, path, host: host, headers: headers) + body,
        host: host, port: port)
    }
    return try Self.parse(raw)
  }

  static func requestText(
    _ method: String, _ path: String, host: String, headers: [(String, String)]
  )
    -> String
  {
    var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n"
    for (name, value) in headers { text += "\(name): \(value)\r\n" }
    return text + "\r\n"
  }

  private static func exchange(
    _ request: String, host: String, port: Int
  ) async throws
    -> ByteBuffer
  {
    let group = MultiThreadedEventLoopGroup.singleton
    let response = group.next().makePromise(of: ByteBuffer.self)
    do {
      let channel = try await ClientBootstrap(group: group)
        .connectTimeout(.seconds(2))
        .channelInitializer { channel in
          channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(UntilCloseCollector(response))
          }
        }
        .connect(host: host, port: port)
        .get()
      try await channel.writeAndFlush(ByteBuffer(string: request))
      return try await withTaskCancellationHandler {
        try await response.futureResult.get()
      } onCancel: {
        channel.close(promise: nil)
      }
    } catch {
      response.fail(error)
      throw error
    }
  }

  /// Parses a complete response; the body is cut to `Content-Length` when the header is present.
  public static func parse(_ buffer: ByteBuffer) throws -> HTTP1TestResponse {
    let bytes = Array(buffer.readableBytesView)
    let separator = Array("\r\n\r\n".utf8)
    guard let end = bytes.firstRange(of: separator) else {
      throw HTTP1TestClientError(message: "no end of headers in \(bytes.count) bytes")
    }
    let headText = String(decoding: bytes[..<end.lowerBound], as: UTF8.self)
    var lines = headText.split(separator: "\r\n", omittingEmptySubsequences: false)
    let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
    guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."),
      let status = Int(statusLine[1])
    else {
      throw HTTP1TestClientError(message: "bad status line in \(headText.prefix(80))")
    }
    var headers: [(name: String, value: String)] = []
    for line in lines {
      guard let colon = line.firstIndex(of: ":") else {
        throw HTTP1TestClientError(message: "bad header line \(line)")
      }
      let value = line[line.index(after: colon)...].trimmingPrefix(" ")
      headers.append((String(line[..<colon]), String(value)))
    }
    var body = bytes[end.upperBound...]
    let response = HTTP1TestResponse(status: status, headers: headers, body: "")
    if let length = response.header("content-length").flatMap({ Int($0) }) {
      guard body.count >= length else {
        throw HTTP1TestClientError(message: "body of \(body.count) bytes, expected \(length)")
      }
      body = body.prefix(length)
    }
    return HTTP1TestResponse(
      status: status, headers: headers, body: String(decoding: body, as: UTF8.self))
  }
}

/// A response that could not be read as HTTP/1.1.
public struct HTTP1TestClientError: Error, CustomStringConvertible {
  /// What was wrong.
  public var message: String
  /// The message.
  public var description: String { self.message }
}

/// Collects everything the server sends until it closes the connection.
private final class UntilCloseCollector: ChannelInboundHandler {
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

@available(*, unavailable)
extension UntilCloseCollector: Sendable {}
