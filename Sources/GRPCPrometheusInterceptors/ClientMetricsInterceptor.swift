import GRPCCore
import GRPCPrometheus

/// Records the go-grpc-prometheus client metrics of every call it intercepts.
///
/// Call ``register(_:)`` with the method descriptors the client uses at start-up so every
/// series is exposed at 0 before the first call (Go creates client series lazily).
///
/// What is counted: `started` when the call reaches the interceptor; `msg_sent` per request
/// message written successfully; `msg_received` per response message actually received (Go
/// counted unary replies only on error); `handled` and the latency when the response ends with
/// its status, with `Canceled` and `DeadlineExceeded` for cancellations and expired deadlines.
/// On streaming calls each send and each receive is timed, as Go does.
///
/// GRPCCore runs client interceptors inside the transport's stream, so a call that fails
/// before a stream exists (no connection: `unavailable`) never reaches this interceptor. Wrap
/// such call sites in ``recordingCall(to:_:)`` to count those failures too.
public struct ClientMetricsInterceptor: ClientInterceptor {
  let cache: MethodMetricsCache<ClientMethodMetrics>

  /// Creates an interceptor recording into `metrics`.
  public init(metrics: ClientMetrics) {
    self.cache = MethodMetricsCache { metrics.method($0) }
  }

  /// Creates every series of `descriptors` at 0, for example
  /// `register(Proto_EchoService.Method.descriptors)`.
  public func register(_ descriptors: [MethodDescriptor]) {
    for descriptor in descriptors {
      _ = self.cache.handles(for: descriptor)
    }
  }

  /// Creates every series of `descriptor` at 0, labelled with `type` if the descriptor carries
  /// no RPC type (stubs generated before grpc-swift-protobuf 2.3); the descriptor's own type,
  /// when present, wins.
  public func register(_ descriptor: MethodDescriptor, type: GRPCType) {
    _ = self.cache.handles(for: descriptor, type: type)
  }

  /// Records the call around the rest of the interceptor chain and the transport.
  public func intercept<Input: Sendable, Output: Sendable>(
    request: StreamingClientRequest<Input>,
    context: ClientContext,
    next: (StreamingClientRequest<Input>, ClientContext) async throws ->
      StreamingClientResponse<Output>
  ) async throws -> StreamingClientResponse<Output> {
    ClientCallSite.current?.markIntercepted()
    let metrics = self.cache.handles(for: context.descriptor)
    let start = ContinuousClock.now
    let recorder = ClientCallRecorder(
      metrics: metrics,
      start: start,
      deadline: RPCDeadline(metadata: request.metadata, start: start)
    )
    metrics.started()

    var observed = request
    let producer = request.producer
    observed.producer = { writer in
      let counting = ObservedRPCWriter(base: writer) { elapsed in
        metrics.sentMessage()
        // A no-op for unary methods, which have no per-message histogram.
        metrics.observeSend(elapsed)
      }
      try await producer(RPCWriter(wrapping: counting))
    }

    let response: StreamingClientResponse<Output>
    do {
      response = try await next(observed, context)
    } catch {
      recorder.finish(throwing: error)
      throw error
    }

    switch response.accepted {
    case .failure(let error):
      recorder.finish(throwing: error)
      return response
    case .success(var contents):
      contents.bodyParts = RPCAsyncSequence(
        wrapping: ObservedBodyParts(base: contents.bodyParts, recorder: recorder)
      )
      return StreamingClientResponse(accepted: .success(contents))
    }
  }
}
