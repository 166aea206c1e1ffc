import GRPCCore
import GRPCPrometheus

/// Records the go-grpc-prometheus server metrics of every RPC it intercepts.
///
/// Install it first in the server's interceptor list so its latency includes the others, and
/// call ``register(_:)`` with the service's method descriptors at start-up so every series is
/// exposed at 0 before traffic, as Go's `InitializeMetrics` does.
///
/// What is counted, as in Go: `started` when the RPC reaches the interceptor;
/// `msg_received` per request message the handler reads; `msg_sent` per response message
/// written successfully (so a failed unary RPC sends none); `handled` and the latency once the
/// response stream is finished or the handler fails. Cancellations count as `Canceled` and
/// expired deadlines as `DeadlineExceeded`, never `Unknown`.
public struct ServerMetricsInterceptor: ServerInterceptor {
  private let cache: MethodMetricsCache<ServerMethodMetrics>

  /// Creates an interceptor recording into `metrics`.
  public init(metrics: ServerMetrics) {
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

  /// Records the RPC around the rest of the interceptor chain and the handler.
  public func intercept<Input: Sendable, Output: Sendable>(
    request: StreamingServerRequest<Input>,
    context: ServerContext,
    next:
      @Sendable (StreamingServerRequest<Input>, ServerContext) async throws ->
      StreamingServerResponse<Output>
  ) async throws -> StreamingServerResponse<Output> {
    let metrics = self.cache.handles(for: context.descriptor)
    let start = ContinuousClock.now
    let deadline = RPCDeadline(metadata: request.metadata, start: start)
    metrics.started()

    @Sendable func handled(throwing error: any Error) {
      let now = ContinuousClock.now
      let code = GRPCCode.ending(
        with: error,
        cancelled: context.cancellation.isCancelled || Task.isCancelled,
        deadlinePassed: deadline?.hasPassed(at: now) ?? false
      )
      metrics.handled(code, after: start.duration(to: now))
    }

    var observed = request
    observed.messages = RPCAsyncSequence(
      wrapping: ObservedMessages(base: request.messages) { metrics.receivedMessage() }
    )

    let response: StreamingServerResponse<Output>
    do {
      response = try await next(observed, context)
    } catch {
      handled(throwing: error)
      throw error
    }

    switch response.accepted {
    case .failure(let error):
      handled(throwing: error)
      return response
    case .success(var contents):
      let producer = contents.producer
      contents.producer = { writer in
        let counting = ObservedRPCWriter(base: writer) { _ in metrics.sentMessage() }
        do {
          let trailers = try await producer(RPCWriter(wrapping: counting))
          metrics.handled(.ok, after: start.duration(to: .now))
          return trailers
        } catch {
          handled(throwing: error)
          throw error
        }
      }
      return StreamingServerResponse(accepted: .success(contents))
    }
  }
}
