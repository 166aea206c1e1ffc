import Prometheus

/// The series of one client method, resolved once at registration so that recording a call
/// costs only atomic increments (and the histograms' locks): no lookups, strings or allocations.
/// A class, so a call holds its handles through one reference instead of retaining every
/// counter each time it records.
public final class ServerMethodMetrics: Sendable {
  /// `grpc_server_started_total` for this method.
  public let startedCounter: Counter
  /// `grpc_server_msg_received_total` for this method.
  public let receivedCounter: Counter
  /// `grpc_server_msg_sent_total` for this method.
  public let sentCounter: Counter
  /// `grpc_server_handled_total` for this method, indexed by ``GRPCCode/rawValue``.
  public let handledCounters: [Counter]
  /// `grpc_server_handling_seconds` for this method, `nil` when disabled.
  public let handlingSeconds: ValueHistogram?

  init(
    started: Counter,
    received: Counter,
    sent: Counter,
    handled: [Counter],
    handlingSeconds: ValueHistogram?
  ) {
    precondition(handled.count == GRPCCode.allCases.count, "one handled counter per code")
    self.startedCounter = started
    self.receivedCounter = received
    self.sentCounter = sent
    self.handledCounters = handled
    self.handlingSeconds = handlingSeconds
  }

  /// Records that the server accepted an RPC.
  public func started() {
    self.startedCounter.increment()
  }

  /// Records one request message read from the client.
  public func receivedMessage() {
    self.receivedCounter.increment()
  }

  /// Records one response message written to the client.
  public func sentMessage() {
    self.sentCounter.increment()
  }

  /// Records the end of an RPC with its status and the time since it started.
  public func handled(_ code: GRPCCode, after elapsed: Duration) {
    self.handledCounters[code.rawValue].increment()
    self.handlingSeconds?.record(elapsed / .seconds(1))
  }
}
