import ArgumentParser
import HTTP1Serving
import NIOCore
import NIOPosix

/// The command-line flags both executables share for what their listeners accept: how long an
/// HTTP/1.1 request may take on its way in and how many connections may be open at once.
package struct ListenerOptions: ParsableArguments {
  @Option(help: "Seconds an HTTP/1.1 request head may take from its first byte (then 408).")
  package var requestHeadTimeout = HTTP1ConnectionLimits.defaults.headTimeout.seconds

  @Option(help: "Seconds an HTTP/1.1 request body may take after its head (then 408).")
  package var requestBodyTimeout = HTTP1ConnectionLimits.defaults.bodyTimeout.seconds

  @Option(help: "Most connections open at once; more are closed as soon as they are accepted.")
  package var maxConnections = ServerBootstrap.defaultMaxConnections

  package init() {}

  package func validate() throws {
    guard self.requestHeadTimeout > 0, self.requestBodyTimeout > 0 else {
      throw ValidationError("--request-head-timeout and --request-body-timeout must be above 0")
    }
    guard self.maxConnections >= 1 else {
      throw ValidationError("--max-connections must be at least 1")
    }
  }

  /// `limits` with the request deadlines given here.
  package func applied(to limits: HTTP1ConnectionLimits) -> HTTP1ConnectionLimits {
    var limits = limits
    limits.headTimeout = TimeAmount(seconds: self.requestHeadTimeout)
    limits.bodyTimeout = TimeAmount(seconds: self.requestBodyTimeout)
    return limits
  }
}
