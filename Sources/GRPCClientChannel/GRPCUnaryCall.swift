import GRPCWire
import NIOCore

/// A unary call in flight: its result, and a way to cancel it when the caller goes away.
public struct GRPCUnaryCall: Sendable {
  /// Completes once with the call's outcome, on the event loop the call runs on; never fails.
  public let result: EventLoopFuture<GRPCUnaryResult>
  private let call: NIOLoopBoundBox<ClientCall?>?

  init(result: EventLoopFuture<GRPCUnaryResult>, call: NIOLoopBoundBox<ClientCall?>?) {
    self.result = result
    self.call = call
  }

  /// Cancels the call (RST_STREAM to the server) unless it has finished; it then ends with
  /// `CANCELLED`.
  public func cancel() {
    guard let box = self.call else { return }
    let cancel: @Sendable () -> Void = {
      box.value?.abandon(GRPCStatus(code: .cancelled, message: "cancelled by the caller"))
    }
    if box.eventLoop.inEventLoop {
      cancel()
    } else {
      box.eventLoop.execute(cancel)
    }
  }
}
