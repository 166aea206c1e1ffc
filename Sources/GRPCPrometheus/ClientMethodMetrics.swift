import Prometheus

/// The series of one client method, resolved once at registration so that recording a call
/// costs only atomic increments (and the histograms' locks): no lookups, strings or allocations.
/// A class, so a call holds its handles through one reference instead of retaining every
/// counter each time it records.
public final class ClientMethodMetrics: Sendable {
  /// `grpc_client_started_total` for this method.
  public let startedCounter: Counter
  /// `grpc_client_msg_received_total` for this method.
  public let receivedCounter: Counter
  /// `grpc_client_msg_sent_total` for this method.
  public let sentCounter: Counter
  /// `grpc_client_handled_total` for this method, indexed by ``GRPCCode/rawValue``.
  public let handledCounters: [Counter]
  /// `grpc_client_handling_seconds` for this method, `nil` when disabled.
  public let handlingSeconds: ValueHistogram?
  /// `grpc_client_msg_send_handling_seconds`, `nil` when disabled or the method is unary.
  public let sendSeconds: ValueHistogram?
  /// `grpc_client_msg_recv_handling_seconds`, `nil` when disabled or the method is unary.
  public let receiveSeconds: ValueHistogram?

  init(
    started: Counter,
    received: Counter,
    sent: Counter,
    handled: [Counter],
    handlingSeconds: ValueHistogram?,
    sendSeconds: ValueHistogram?,
    receiveSeconds: ValueHistogram?
  ) {
    precondition(handled.count == GRPCCode.allCases.count, "one handled counter per code")
    self.startedCounter = started
    self.receivedCounter = received
    self.sentCounter = sent
    self.handledCounters = handled
    self.handlingSeconds = handlingSeconds
    self.sendSeconds = sendSeconds
    self.receiveSeconds = receiveSeconds
  }

  /// Records that the application started a call, whether or not it ever reaches the server.
  public func started() {
    self.startedCounter.increment()
  }

  /// Records one response message received from the server.
  public func receivedMessage() {
    self.receivedCounter.increment()
  }

  /// Records one request message sent to the server.
  public func sentMessage() {
    self.sentCounter.increment()
  }

  /// Records the end of a call with its status and the time since it started.
  public func handled(_ code: GRPCCode, after elapsed: Duration) {
    self.handledCounters[code.rawValue].increment()
    self.handlingSeconds?.record(elapsed / .seconds(1))
  }

  /// Records how long sending one message of a streaming call took.
  public func observeSend(_ elapsed: Duration) {
    self.sendSeconds?.record(elapsed / .seconds(1))
  }

  /// Records how long waiting for one message of a streaming call took.
  public func observeReceive(_ elapsed: Duration) {
    self.receiveSeconds?.record(elapsed / .seconds(1))
  }
}
