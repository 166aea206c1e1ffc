import GRPCPrometheus
import GRPCWire
import Logging
import NGHTTP2
import NIOCore
import NIOEmbedded
import Prometheus
import Testing

@testable import GRPCServerRuntime

/// A server connection on an `EmbeddedChannel`, with a client `NGHTTP2Session` as its peer and
/// the embedded event loop's clock, which moves only when a test advances it.
final class EmbeddedServerConnection {
  static let unary = GRPCMethod(service: "test.Service", method: "Unary", type: .unary)
  /// A bidirectional method that never replies; it finishes OK when the client ends its side.
  static let silent = GRPCMethod(service: "test.Service", method: "Silent", type: .bidiStream)

  let channel = EmbeddedChannel()
  let client = NGHTTP2Session(role: .client, settings: .defaults)
  let peer = ClientPeer()
  let shutdown = OutputShutdownRecorder()
  /// Every frame the server has written so far, in order.
  private(set) var serverFrames: [FrameHeader] = []
  /// How many writes the server made, one per flush.
  private(set) var serverWrites = 0

  init(
    configuration: ServerRuntimeConfiguration = .defaults,
    interceptors: [any GRPCServerInterceptor] = [
      ServerMetrics(registry: PrometheusCollectorRegistry())
    ]
  ) throws {
    self.client.delegate = self.peer
    let router = RPCRouter(
      methods: [
        RPCMethodDefinition(
          method: Self.unary, handler: .unary { payload, call in call.send(payload) }),
        RPCMethodDefinition(method: Self.silent, handler: .stream { FinishOnEndHandler() }),
      ],
      interceptors: interceptors)
    let handler = GRPCConnectionHandler(
      router: router, configuration: configuration, logger: Logger(label: "test"),
      eventLoop: self.channel.eventLoop)
    // As on the server, the handler joins a connected channel (after protocol sniffing).
    let client = try SocketAddress(ipAddress: "127.0.0.1", port: 50051)
    self.channel.remoteAddress = client
    try self.channel.connect(to: client).wait()
    try self.channel.pipeline.syncOperations.addHandler(self.shutdown)
    try self.channel.pipeline.syncOperations.addHandler(handler)
    try self.exchange()
  }

  var isOpen: Bool { self.channel.isActive }

  /// Opens a stream for `method`, with its request message when `message` is given.
  @discardableResult
  func startCall(
    _ method: GRPCMethod, message: [UInt8]? = nil, endStream: Bool, timeout: String? = nil
  ) throws -> Int32 {
    var headers: [NGHTTP2HeaderField] = [
      (":method", "POST"), (":scheme", "http"), (":path", "/\(method.service)/\(method.method)"),
      (":authority", "test"),
      ("content-type", "application/grpc"), ("te", "trailers"),
    ]
    if let timeout { headers.append(("grpc-timeout", timeout)) }
    let streamID = try self.client.submitRequest(
      headers: NGHTTP2HeaderList(headers), endStream: message == nil && endStream)
    if let message {
      var framed = ByteBuffer()
      GRPCMessageFramer.appendMessage(to: &framed) { $0.writeBytes(message) }
      try self.client.sendData(streamID: streamID, framed, endStream: endStream)
    }
    return streamID
  }

  /// Moves bytes both ways, running the event loop's due work, until neither side has more.
  func exchange(sourceLocation: SourceLocation = #_sourceLocation) throws {
    for _ in 0..<100 {
      self.channel.embeddedEventLoop.run()
      var moved = false
      var toServer = ByteBuffer()
      try self.client.drain(into: &toServer)
      if toServer.readableBytes > 0 && self.isOpen {
        try self.channel.writeInbound(toServer)
        moved = true
      }
      while self.isOpen, let frames = try self.channel.readOutbound(as: ByteBuffer.self) {
        self.serverWrites += 1
        self.serverFrames += FrameHeader.parse(frames)
        try self.client.receive(frames)
        moved = true
      }
      if !moved { return }
    }
    Issue.record("the connection never went quiet", sourceLocation: sourceLocation)
  }

  /// Moves the clock on, running the timers that come due, then exchanges what they produced.
  func advance(by amount: TimeAmount) throws {
    self.channel.embeddedEventLoop.advanceTime(by: amount)
    try self.exchange()
  }
}

/// The header of an HTTP/2 frame the server wrote.
struct FrameHeader: Equatable {
  static let ping: UInt8 = 0x6
  static let goAway: UInt8 = 0x7

  var type: UInt8
  var flags: UInt8
  var streamID: UInt32

  /// The frames in one write (the server writes whole frames).
  static func parse(_ buffer: ByteBuffer) -> [FrameHeader] {
    var buffer = buffer
    var frames: [FrameHeader] = []
    while let length = buffer.readInteger(as: UInt16.self).flatMap({ high in
      buffer.readInteger(as: UInt8.self).map { Int(high) << 8 | Int($0) }
    }),
      let type = buffer.readInteger(as: UInt8.self),
      let flags = buffer.readInteger(as: UInt8.self),
      let streamID = buffer.readInteger(as: UInt32.self)
    {
      frames.append(FrameHeader(type: type, flags: flags, streamID: streamID & 0x7fff_ffff))
      buffer.moveReaderIndex(forwardBy: length)
    }
    return frames
  }
}

/// What the client session heard from the server.
final class ClientPeer: NGHTTP2SessionDelegate {
  private(set) var headers: [Int32: [[String: String]]] = [:]
  private(set) var data: [Int32: [UInt8]] = [:]
  private(set) var closed: [Int32: HTTP2ErrorCode] = [:]
  private(set) var goAways: [Int32] = []

  /// The `grpc-status` the server ended `streamID` with, if it has.
  func status(of streamID: Int32) -> String? {
    self.headers[streamID]?.last?["grpc-status"]
  }

  func didReceiveHeaders(streamID: Int32, headers: NGHTTP2HeaderBlock, endStream: Bool) {
    var fields: [String: String] = [:]
    for field in headers { fields[field.name] = field.value }
    self.headers[streamID, default: []].append(fields)
  }

  func didReceiveData(streamID: Int32, data: ByteBuffer) {
    self.data[streamID, default: []] += Array(data.readableBytesView)
  }

  func didReceiveEndStream(streamID: Int32) {}

  func didCloseStream(streamID: Int32, errorCode: HTTP2ErrorCode, attachment: AnyObject?) {
    self.closed[streamID] = errorCode
  }

  func didReceiveGoAway(lastStreamID: Int32, errorCode: HTTP2ErrorCode) {
    self.goAways.append(lastStreamID)
  }

  func didReceiveSettings() {}
}

/// Stands in for the socket's half-close, which an `EmbeddedChannel` does not have (it would
/// close the channel outright): records that the server shut its side, and keeps the channel
/// open for the client's bytes.
final class OutputShutdownRecorder: ChannelOutboundHandler {
  typealias OutboundIn = ByteBuffer
  private(set) var isOutputShut = false

  func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
    guard mode == .output else {
      context.close(mode: mode, promise: promise)
      return
    }
    self.isOutputShut = true
    promise?.succeed(())
  }
}

/// Never replies; finishes OK once the client ends its side.
private final class FinishOnEndHandler: RPCStreamHandler {
  func receive(_ message: ByteBuffer, on call: ServerCall) throws(GRPCStatus) {}
  func endOfRequests(on call: ServerCall) throws(GRPCStatus) { call.finish(.ok) }
}
