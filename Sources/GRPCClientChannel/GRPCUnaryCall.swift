import GRPCWire
import NIOCore

/// A unary call in flight: its result, and a way to cancel it when the caller goes away.
public struct GRPCUnaryCall: Sendable {
  /// Completes once with the call's outcome, on the event loop the call runs on; never fails.
  public let result: EventLoopFuture<GRPCUnaryResult>
  /// Cancels the call.
  public let cancellation: GRPCCallCancellation

  init(result: EventLoopFuture<GRPCUnaryResult>, cancellation: GRPCCallCancellation) {
    self.result = result
    self.cancellation = cancellation
  }

  /// Cancels the call (RST_STREAM to the server) unless it has finished; it then ends with
  /// `CANCELLED`.
  public func cancel() {
    self.cancellation.cancel()
  }
}

/// Cancels a call in flight, from any thread.
public struct GRPCCallCancellation: Sendable {
  private enum Call: Sendable {
    /// Ended before it started (no connection to start it on).
    case ended
    /// Started on the caller's event loop.
    case started(NIOLoopBound<ClientCall>, on: any EventLoop)
    /// Being started on another event loop; the box holds it once it has.
    case starting(NIOLoopBoundBox<ClientCall?>)
  }

  private let call: Call

  static let ended = GRPCCallCancellation(call: .ended)

  static func started(_ call: ClientCall) -> GRPCCallCancellation {
    GRPCCallCancellation(
      call: .started(NIOLoopBound(call, eventLoop: call.eventLoop), on: call.eventLoop))
  }

  static func starting(_ box: NIOLoopBoundBox<ClientCall?>) -> GRPCCallCancellation {
    GRPCCallCancellation(call: .starting(box))
  }

  private init(call: Call) {
    self.call = call
  }

  /// Cancels the call (RST_STREAM to the server) unless it has finished; it then ends with
  /// `CANCELLED`.
  public func cancel() {
    let eventLoop: any EventLoop
    let cancel: @Sendable () -> Void
    switch self.call {
    case .ended:
      return
    case .started(let call, let loop):
      eventLoop = loop
      cancel = { call.value.abandon(Self.cancelled) }
    case .starting(let box):
      eventLoop = box.eventLoop
      cancel = { box.value?.abandon(Self.cancelled) }
    }
    if eventLoop.inEventLoop {
      cancel()
    } else {
      eventLoop.execute(cancel)
    }
  }

  private static let cancelled = GRPCStatus(code: .cancelled, message: "cancelled by the caller")
}
