import NIOConcurrencyHelpers
import NIOCore

/// The open client connections, so a shutdown whose grace period ran out can close them.
final class ConnectionRegistry: Sendable {
  private let channels = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

  func add(_ channel: any Channel) {
    let id = ObjectIdentifier(channel)
    self.channels.withLockedValue { $0[id] = channel }
    channel.closeFuture.whenComplete { _ in
      _ = self.channels.withLockedValue { $0.removeValue(forKey: id) }
    }
  }

  var count: Int { self.channels.withLockedValue { $0.count } }

  func closeAll() {
    for channel in self.channels.withLockedValue({ Array($0.values) }) {
      channel.close(promise: nil)
    }
  }
}
