import GRPCCore
import GRPCPrometheus

extension GRPCCode {
  /// The code of a GRPCCore error code; the numbering is the wire numbering on both sides.
  public init(_ code: RPCError.Code) {
    self = GRPCCode(rawValue: code.rawValue) ?? .unknown
  }

  /// The code an RPC that ended by throwing `error` is counted under.
  ///
  /// An error that names a specific code keeps it. A cancellation (`CancellationError`, a
  /// `cancelled` error, or an `unknown` one thrown while the RPC was cancelled) counts as
  /// `DeadlineExceeded` once the deadline has passed and as `Canceled` otherwise: Go counted
  /// both as `Unknown`, which hid every timeout on the dashboards.
  static func ending(with error: any Error, cancelled: Bool, deadlinePassed: Bool) -> GRPCCode {
    let named: GRPCCode?
    switch error {
    case let error as RPCError:
      named = GRPCCode(error.code)
    case let error as any RPCErrorConvertible:
      named = GRPCCode(error.rpcErrorCode)
    default:
      named = nil
    }

    let isCancellation =
      error is CancellationError || named == .canceled
      || (cancelled && (named == nil || named == .unknown))
    guard isCancellation else {
      return named ?? .unknown
    }
    return deadlinePassed ? .deadlineExceeded : .canceled
  }
}
