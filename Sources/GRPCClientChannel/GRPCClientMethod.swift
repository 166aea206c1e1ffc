import GRPCPrometheus
import GRPCWire
import NGHTTP2

/// A method registered on a ``GRPCChannel``: its HTTP/2 path and its interceptors' hooks,
/// resolved once so that a call only walks an array.
public struct GRPCClientMethod: Sendable {
  /// The method, as the metrics label it.
  public let method: GRPCMethod
  /// `/package.Service/Method`.
  public let path: String
  let observers: [any GRPCClientCallObserver]
  /// Every field of a call's request headers but `grpc-timeout`, encoded once.
  let requestHeaders: NGHTTP2HeaderList

  init(method: GRPCMethod, authority: String, observers: [any GRPCClientCallObserver]) {
    self.method = method
    self.path = "/\(method.service)/\(method.method)"
    self.observers = observers
    self.requestHeaders = [
      (":method", "POST"),
      (":scheme", "http"),
      (":path", self.path),
      (":authority", authority),
      ("content-type", GRPCContentType.responseHeaderValue),
      ("te", "trailers"),
    ]
  }

  func started() {
    for observer in self.observers { observer.started() }
  }

  func sentMessage() {
    for observer in self.observers { observer.sentMessage() }
  }

  func receivedMessage() {
    for observer in self.observers { observer.receivedMessage() }
  }

  func finished(_ code: GRPCStatus.Code, after elapsed: Duration) {
    for observer in self.observers { observer.finished(code, after: elapsed) }
  }
}
