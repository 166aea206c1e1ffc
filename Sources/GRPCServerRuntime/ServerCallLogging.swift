import GRPCPrometheus
import GRPCWire
import Logging

/// One structured log line per finished call, at debug level: method, status, duration, peer.
/// EchoServer installs it when it runs with `--log-level debug` (or trace).
public struct ServerCallLogging: GRPCServerInterceptor {
  private let logger: Logger

  /// Logs through `logger`.
  public init(logger: Logger) {
    self.logger = logger
  }

  /// The method's log line, named once.
  public func bind(to method: GRPCMethod) -> any GRPCServerCallObserver {
    Observer(method: "\(method.service)/\(method.method)", logger: self.logger)
  }

  private struct Observer: GRPCServerCallObserver {
    let method: String
    let logger: Logger

    func started(_ call: ServerCall) {}
    func receivedMessage(on call: ServerCall) {}
    func sentMessage(on call: ServerCall) {}

    func finished(_ call: ServerCall, with status: GRPCStatus, after elapsed: Duration) {
      var metadata: Logger.Metadata = [
        "grpc.method": "\(self.method)",
        "grpc.code": "\(status.code)",
        "grpc.time_ms": "\(elapsed / .milliseconds(1))",
        "peer": "\(call.peer)",
      ]
      if !status.message.isEmpty { metadata["grpc.message"] = "\(status.message)" }
      self.logger.debug("call finished", metadata: metadata)
    }
  }
}
