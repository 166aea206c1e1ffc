import Logging
import NIOCore
import Synchronization

/// At most `maxConnections` connections open at once on a listener: one more is closed as soon
/// as it is accepted, so a client that opens sockets without end (or holds them with requests
/// that never finish) costs the process a bounded number of descriptors and buffers, and the
/// connections already open keep being served. The log gets one warning when the limit is
/// reached and one line when a connection is admitted again, however many are refused between.
final class ConnectionLimit: Sendable {
  /// The error a refused connection's set-up fails with (NIO then closes it).
  struct Reached: Error, CustomStringConvertible {
    var description: String { "connection limit reached" }
  }

  private let maxConnections: Int
  private let logger: Logger
  private let open = Atomic<Int>(0)
  private let isRefusing = Atomic<Bool>(false)

  init(maxConnections: Int, logger: Logger) {
    self.maxConnections = maxConnections
    self.logger = logger
  }

  /// Counts `channel` as open until it closes; false (and nothing counted) when the limit is
  /// reached.
  func admit(_ channel: any Channel) -> Bool {
    let count = self.open.wrappingAdd(1, ordering: .relaxed).newValue
    guard count <= self.maxConnections else {
      self.open.wrappingSubtract(1, ordering: .relaxed)
      if !self.isRefusing.exchange(true, ordering: .relaxed) {
        self.logger.warning(
          "connection limit reached; new connections are closed until one ends",
          metadata: ["max_connections": "\(self.maxConnections)"])
      }
      return false
    }
    if self.isRefusing.exchange(false, ordering: .relaxed) {
      self.logger.notice("admitting connections again")
    }
    channel.closeFuture.whenComplete { _ in
      self.open.wrappingSubtract(1, ordering: .relaxed)
    }
    return true
  }
}
