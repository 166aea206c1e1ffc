import GRPCPrometheus
import GRPCWire
import NGHTTP2
import NIOCore
import Prometheus
import Testing

@testable import GRPCServerRuntime

/// When a server connection ends: the lifecycle value on its own, then the connection handler
/// carrying it out on an embedded channel with a client session as the peer.
@Suite("Server connection lifecycle")
struct ServerConnectionLifecycleTests {
  static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

  static func configuration(
    idle: TimeAmount = .minutes(5), keepalive: TimeAmount? = nil,
    keepaliveTimeout: TimeAmount = .seconds(2)
  ) -> ServerRuntimeConfiguration {
    var configuration = ServerRuntimeConfiguration.defaults
    configuration.idleTimeout = idle
    configuration.keepaliveInterval = keepalive
    configuration.keepaliveTimeout = keepaliveTimeout
    return configuration
  }

  // MARK: The value

  @Test("idle only after a whole timeout of silence without calls")
  func idleDecisions() {
    var lifecycle = ServerConnectionLifecycle(
      configuration: Self.configuration(idle: .seconds(60)), now: Self.start)
    #expect(lifecycle.firstIdleCheck == Self.start + .seconds(60))
    let read = lifecycle.bytesArrived(at: Self.start + .seconds(30))
    #expect(read == .receive)
    let early = lifecycle.idleCheck(at: Self.start + .seconds(60), hasOpenCalls: false)
    #expect(early == .checkAgain(at: Self.start + .seconds(90)))
    let busy = lifecycle.idleCheck(at: Self.start + .seconds(90), hasOpenCalls: true)
    #expect(busy == .checkAgain(at: Self.start + .seconds(150)))
    #expect(!lifecycle.isEndExpected)
    let idle = lifecycle.idleCheck(at: Self.start + .seconds(150), hasOpenCalls: false)
    #expect(idle == .goAway)
    #expect(lifecycle.isEndExpected)
  }

  @Test("keepalive pings a silent client, and a PING counts as answered by any bytes")
  func keepaliveDecisions() {
    var lifecycle = ServerConnectionLifecycle(
      configuration: Self.configuration(keepalive: .seconds(10)), now: Self.start)
    #expect(!lifecycle.shouldPing(at: Self.start + .seconds(9)))
    #expect(lifecycle.shouldPing(at: Self.start + .seconds(10)))
    let sent = Self.start + .seconds(10)
    #expect(lifecycle.pingDeadline(sentAt: sent) == sent + .seconds(2))
    #expect(lifecycle.isPingUnanswered(sentAt: sent))
    _ = lifecycle.bytesArrived(at: sent + .milliseconds(1))
    #expect(!lifecycle.isPingUnanswered(sentAt: sent))
    #expect(
      !ServerConnectionLifecycle(configuration: Self.configuration(), now: Self.start)
        .shouldPing(at: Self.start + .hours(100)))
  }

  @Test("a graceful shutdown begins once; the client's GOAWAY makes the end expected")
  func shutdownDecisions() {
    var lifecycle = ServerConnectionLifecycle(configuration: Self.configuration(), now: Self.start)
    let first = lifecycle.quiesce()
    let second = lifecycle.quiesce()
    #expect(first && !second)
    #expect(lifecycle.isQuiescing && lifecycle.isEndExpected)
    var other = ServerConnectionLifecycle(configuration: Self.configuration(), now: Self.start)
    other.clientSentGoAway()
    #expect(other.isEndExpected && !other.isQuiescing)
  }

  @Test("while lingering, bytes are dropped and extend the wait up to the limit")
  func lingerDecisions() {
    var lifecycle = ServerConnectionLifecycle(configuration: Self.configuration(), now: Self.start)
    let first = lifecycle.beginLinger(at: Self.start)
    let second = lifecycle.beginLinger(at: Self.start + .seconds(1))
    #expect(first && !second && lifecycle.isLingering)
    let withinLimit = lifecycle.bytesArrived(at: Self.start + .seconds(4))
    #expect(withinLimit == .drop(extendLinger: true))
    let pastLimit = lifecycle.bytesArrived(at: Self.start + .seconds(5))
    #expect(pastLimit == .drop(extendLinger: false))
    #expect(lifecycle.lastRead == Self.start)
  }

  // MARK: The connection carrying it out

  @Test("a unary call's reply leaves in the one write of the read that brought the request")
  func unaryInOneWrite() throws {
    let connection = try EmbeddedServerConnection()
    let writesBefore = connection.serverWrites
    let stream = try connection.startCall(
      EmbeddedServerConnection.unary, message: [1, 2, 3], endStream: true)
    try connection.exchange()
    #expect(connection.serverWrites == writesBefore + 1)
    #expect(connection.peer.status(of: stream) == "0")
    #expect(connection.peer.data[stream] == [0, 0, 0, 0, 3, 1, 2, 3])
    #expect(connection.peer.closed[stream] == .noError)
  }

  @Test("an idle connection gets GOAWAY, shuts its side, and closes after the linger silence")
  func idleGoAwayAndLinger() throws {
    let connection = try EmbeddedServerConnection(
      configuration: Self.configuration(idle: .seconds(60)))
    try connection.advance(by: .seconds(59))
    #expect(connection.peer.goAways.isEmpty)
    try connection.advance(by: .seconds(1))
    #expect(connection.peer.goAways == [0])
    #expect(connection.shutdown.isOutputShut)
    try connection.advance(by: ServerConnectionLifecycle.lingerSilence - .milliseconds(1))
    #expect(connection.isOpen)
    try connection.advance(by: .milliseconds(1))
    #expect(!connection.isOpen)
  }

  @Test("an open call keeps a silent connection from counting as idle")
  func openCallIsNotIdle() throws {
    let connection = try EmbeddedServerConnection(
      configuration: Self.configuration(idle: .seconds(60)))
    let stream = try connection.startCall(EmbeddedServerConnection.silent, endStream: false)
    try connection.exchange()
    try connection.advance(by: .seconds(180))
    #expect(connection.peer.goAways.isEmpty)
    try connection.client.sendData(streamID: stream, ByteBuffer(), endStream: true)
    try connection.exchange()
    #expect(connection.peer.status(of: stream) == "0")
    try connection.advance(by: .seconds(60))
    #expect(connection.peer.goAways == [stream])  // The last stream it processed.
  }

  @Test(
    "a client that is silent for the keepalive interval gets a PING, and is closed if it does not answer"
  )
  func keepaliveUnanswered() throws {
    let connection = try EmbeddedServerConnection(
      configuration: Self.configuration(idle: .hours(1), keepalive: .seconds(10)))
    try connection.advance(by: .seconds(9))
    #expect(!connection.serverFrames.contains { $0.type == FrameHeader.ping })
    // The ping's answer is withheld: the frames are read off the channel, not given to the client.
    connection.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
    let written = try connection.channel.readOutbound(as: ByteBuffer.self)
    #expect(written.map(FrameHeader.parse)?.map(\.type) == [FrameHeader.ping])
    connection.channel.embeddedEventLoop.advanceTime(by: .seconds(2) - .milliseconds(1))
    #expect(connection.isOpen)
    connection.channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
    #expect(!connection.isOpen)
  }

  @Test("an answered keepalive PING keeps the connection, and the next silence gets another")
  func keepaliveAnswered() throws {
    let connection = try EmbeddedServerConnection(
      configuration: Self.configuration(idle: .hours(1), keepalive: .seconds(10)))
    try connection.advance(by: .seconds(10))  // The client session acknowledges the PING.
    #expect(connection.serverFrames.filter { $0.type == FrameHeader.ping }.count == 1)
    try connection.advance(by: .seconds(5))
    #expect(connection.isOpen)
    try connection.advance(by: .seconds(5))
    #expect(connection.serverFrames.filter { $0.type == FrameHeader.ping }.count == 2)
    #expect(connection.isOpen)
  }

  @Test(
    "a graceful shutdown sends a GOAWAY notice, the final GOAWAY a second later, and closes after the last call"
  )
  func gracefulShutdown() throws {
    let connection = try EmbeddedServerConnection()
    let stream = try connection.startCall(EmbeddedServerConnection.silent, endStream: false)
    try connection.exchange()
    connection.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
    try connection.exchange()
    #expect(connection.peer.goAways == [Int32.max])
    try connection.advance(by: ServerConnectionLifecycle.goAwayNoticePeriod)
    #expect(connection.peer.goAways == [Int32.max, stream])
    #expect(connection.isOpen && !connection.shutdown.isOutputShut)
    try connection.client.sendData(streamID: stream, ByteBuffer(), endStream: true)
    try connection.exchange()
    #expect(connection.peer.status(of: stream) == "0")
    #expect(connection.shutdown.isOutputShut)
    try connection.advance(by: ServerConnectionLifecycle.lingerSilence)
    #expect(!connection.isOpen)
  }

  @Test("a client that keeps sending after our side shut holds the socket at most the linger limit")
  func lingerLimit() throws {
    let connection = try EmbeddedServerConnection(
      configuration: Self.configuration(idle: .seconds(1)))
    try connection.advance(by: .seconds(1))
    #expect(connection.shutdown.isOutputShut)
    var elapsed = TimeAmount.zero
    while connection.isOpen && elapsed < .seconds(10) {
      try connection.client.submitPing()
      try connection.exchange()
      try connection.advance(by: .milliseconds(100))
      elapsed = elapsed + .milliseconds(100)
    }
    #expect(!connection.isOpen)
    #expect(elapsed > ServerConnectionLifecycle.lingerLimit)
    #expect(
      elapsed <= ServerConnectionLifecycle.lingerLimit + ServerConnectionLifecycle.lingerSilence)
  }

  @Test("a call past its deadline ends with DEADLINE_EXCEEDED while others go on")
  func deadline() throws {
    let connection = try EmbeddedServerConnection()
    let early = try connection.startCall(
      EmbeddedServerConnection.silent, endStream: false, timeout: "100m")
    let late = try connection.startCall(
      EmbeddedServerConnection.silent, endStream: false, timeout: "1S")
    try connection.exchange()
    try connection.advance(by: .milliseconds(99))
    #expect(connection.peer.status(of: early) == nil)
    try connection.advance(by: .milliseconds(1))
    #expect(connection.peer.status(of: early) == "\(GRPCStatus.Code.deadlineExceeded.rawValue)")
    #expect(connection.peer.status(of: late) == nil)
    try connection.advance(by: .milliseconds(900))
    #expect(connection.peer.status(of: late) == "\(GRPCStatus.Code.deadlineExceeded.rawValue)")
    #expect(connection.isOpen)
  }
}

/// The interceptor seam, seen from a recording interceptor.
@Suite("Server interceptors")
struct ServerInterceptorTests {
  @Test(
    "an interceptor sees a call's start, its messages in and out, and its end with status and peer")
  func hooksInOrder() throws {
    let recorder = RecordingInterceptor()
    let connection = try EmbeddedServerConnection(interceptors: [
      ServerMetrics(registry: PrometheusCollectorRegistry()), recorder,
    ])
    #expect(recorder.bound.contains(EmbeddedServerConnection.unary))
    #expect(recorder.bound.contains(RPCRouter.unknownMethod))
    try connection.startCall(EmbeddedServerConnection.unary, message: [7], endStream: true)
    try connection.exchange()
    #expect(
      recorder.events == [
        "started test.Service/Unary from [IPv4]127.0.0.1:50051", "received", "sent",
        "finished OK",
      ])
  }

  @Test("calls the runtime rejects and calls the client cancels are finished once each")
  func rejectedAndCancelled() throws {
    let recorder = RecordingInterceptor()
    let connection = try EmbeddedServerConnection(interceptors: [recorder])
    let unknown = GRPCMethod(service: "test.Service", method: "Nope", type: .unary)
    try connection.startCall(unknown, message: [1], endStream: true)
    let silent = try connection.startCall(EmbeddedServerConnection.silent, endStream: false)
    try connection.exchange()
    try connection.client.resetStream(streamID: silent, errorCode: .cancel)
    try connection.exchange()
    #expect(
      recorder.events.filter { $0.hasPrefix("finished") } == [
        "finished UNIMPLEMENTED", "finished CANCELLED",
      ])
  }
}

private final class RecordingInterceptor: GRPCServerInterceptor, GRPCServerCallObserver,
  @unchecked Sendable
{
  // Written on the embedded event loop only (the test's thread).
  private(set) var bound: [GRPCMethod] = []
  private(set) var events: [String] = []

  func bind(to method: GRPCMethod) -> any GRPCServerCallObserver {
    self.bound.append(method)
    return self
  }

  func started(_ call: ServerCall) {
    self.events.append("started \(call.method.service)/\(call.method.method) from \(call.peer)")
  }

  func receivedMessage(on call: ServerCall) { self.events.append("received") }
  func sentMessage(on call: ServerCall) { self.events.append("sent") }

  func finished(_ call: ServerCall, with status: GRPCStatus, after elapsed: Duration) {
    self.events.append("finished \(status.code)")
  }
}
