import GRPCPrometheus
import Synchronization

/// Records the end of one client call exactly once, however it ends.
///
/// A call ends when its response stream reaches the end (`OK`), throws (its code), or, if the
/// application drops the response before either, when the last reference goes away; GRPCCore
/// cancels such a call, so it counts as `Canceled`. Go never counted those calls at all.
final class ClientCallRecorder: Sendable {
  let metrics: ClientMethodMetrics
  let start: ContinuousClock.Instant
  private let deadline: RPCDeadline?
  private let finished = Atomic<Bool>(false)

  init(metrics: ClientMethodMetrics, start: ContinuousClock.Instant, deadline: RPCDeadline?) {
    self.metrics = metrics
    self.start = start
    self.deadline = deadline
  }

  func finish(_ code: GRPCCode) {
    guard !self.finished.exchange(true, ordering: .relaxed) else { return }
    self.metrics.handled(code, after: self.start.duration(to: .now))
  }

  /// Records the code `error` ends the call with. A cancellation inside a
  /// ``ClientMetricsInterceptor/recordingCall(to:_:)`` is left to the call site, which learns
  /// from GRPCCore's final error whether it was the deadline; elsewhere the deadline is
  /// estimated from the `grpc-timeout` header (see ``RPCDeadline``).
  func finish(throwing error: any Error) {
    let deadlinePassed = self.deadline?.hasPassed(at: .now) ?? false
    let code = GRPCCode.ending(
      with: error,
      cancelled: Task.isCancelled,
      deadlinePassed: deadlinePassed
    )
    if Task.isCancelled, code == .canceled || code == .deadlineExceeded,
      let site = ClientCallSite.current
    {
      site.deferCancelledCall(self)
      return
    }
    self.finish(code)
  }

  deinit {
    self.finish(.canceled)
  }
}
