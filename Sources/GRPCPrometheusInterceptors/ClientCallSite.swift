import GRPCPrometheus
import NIOConcurrencyHelpers
import Synchronization

/// One call made through ``ClientMetricsInterceptor/recordingCall(to:_:)``.
///
/// The interceptor marks it when it runs, which tells the call site whether a failure was
/// already counted, and hands it calls that ended in a cancellation: only the call site sees
/// GRPCCore's final error, which says whether the deadline or the caller cancelled.
final class ClientCallSite: Sendable {
  /// Task-local, so it travels into the child tasks in which GRPCCore runs interceptors.
  @TaskLocal static var current: ClientCallSite?

  private let intercepted = Atomic<Bool>(false)
  private let cancelledCalls = NIOLockedValueBox<[ClientCallRecorder]>([])

  var wasIntercepted: Bool {
    self.intercepted.load(ordering: .relaxed)
  }

  func markIntercepted() {
    self.intercepted.store(true, ordering: .relaxed)
  }

  /// Holds a cancelled call until ``resolveCancelledCalls(as:)`` knows its cause.
  func deferCancelledCall(_ recorder: ClientCallRecorder) {
    self.cancelledCalls.withLockedValue { $0.append(recorder) }
  }

  func resolveCancelledCalls(as code: GRPCCode) {
    let recorders = self.cancelledCalls.withLockedValue { recorders in
      defer { recorders.removeAll() }
      return recorders
    }
    for recorder in recorders {
      recorder.finish(code)
    }
  }
}
