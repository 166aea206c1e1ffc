import GRPCCore
import GRPCPrometheus

extension ClientMetricsInterceptor {
  /// Runs `call`, a single call to `descriptor` on a client that uses this interceptor, and
  /// counts it as started and handled if it fails before reaching the interceptor.
  ///
  /// It also attributes a cancelled call exactly: inside the interceptor a deadline and a
  /// cancellation by the caller look alike (both cancel the task), and only GRPCCore's final
  /// error tells them apart.
  ///
  /// GRPCCore opens the transport stream before running client interceptors, so a call that
  /// cannot connect (`unavailable`, or a client that is not running) throws without the
  /// interceptor ever seeing it; Go's interceptors, which run before dialling, count it.
  /// Calls that do reach the interceptor are counted there only, never twice.
  ///
  /// ```swift
  /// let method = Proto_EchoService.Method.EchoService.descriptor
  /// let reply = try await interceptor.recordingCall(to: method) {
  ///   try await echo.echoService(request)
  /// }
  /// ```
  public func recordingCall<Result: Sendable>(
    to descriptor: MethodDescriptor,
    _ call: () async throws -> Result
  ) async throws -> Result {
    let site = ClientCallSite()
    let start = ContinuousClock.now
    do {
      let result = try await ClientCallSite.$current.withValue(site) {
        try await call()
      }
      // A call that succeeds was not cancelled; nothing can be pending, but never leak one.
      site.resolveCancelledCalls(as: .canceled)
      return result
    } catch {
      let code = GRPCCode.ending(with: error, cancelled: Task.isCancelled, deadlinePassed: false)
      site.resolveCancelledCalls(as: code)
      if !site.wasIntercepted {
        let metrics = self.cache.handles(for: descriptor)
        metrics.started()
        metrics.handled(code, after: start.duration(to: .now))
      }
      throw error
    }
  }
}
