import NIOConcurrencyHelpers
import ProtoMessages

/// The serving status of the server and of each of its services, as `grpc.health.v1.Health`
/// reports it; watchers hear every change.
public final class HealthStatusStore: Sendable {
  /// A serving status (the health protocol's enum).
  public typealias Status = Grpc_Health_V1_HealthCheckResponse.ServingStatus

  private struct State {
    var statuses: [String: Status]
    var watchers: [Int: Watcher] = [:]
    var nextWatcherID = 0
  }

  private struct Watcher {
    var service: String
    var notify: Notify
  }

  /// Tells a watcher of a new status; `isFinal` when the server is draining and the watch ends.
  typealias Notify = @Sendable (_ status: Status, _ isFinal: Bool) -> Void

  private let state: NIOLockedValueBox<State>

  /// Creates a store where the overall status (service name `""`) and every named service are
  /// `SERVING`.
  public init(services: [String]) {
    var statuses = [String: Status]()
    for service in services { statuses[service] = .serving }
    statuses[""] = .serving
    self.state = NIOLockedValueBox(State(statuses: statuses))
  }

  /// The status of a service (`""` for the whole server); `nil` for a service the server lacks.
  public func status(of service: String) -> Status? {
    self.state.withLockedValue { $0.statuses[service] }
  }

  /// Sets one service's status and tells its watchers.
  public func setStatus(_ status: Status, for service: String) {
    let notified = self.state.withLockedValue { state -> [Notify] in
      guard state.statuses[service] != status else { return [] }
      state.statuses[service] = status
      return state.watchers.values.filter { $0.service == service }.map(\.notify)
    }
    for notify in notified { notify(status, false) }
  }

  /// Marks every service `NOT_SERVING` (the server is draining; load balancers should move on),
  /// tells every watcher, and ends the watches so they do not hold the drain up.
  public func enterDraining() {
    let watchers = self.state.withLockedValue { state -> [Watcher] in
      for service in state.statuses.keys { state.statuses[service] = .notServing }
      defer { state.watchers = [:] }
      return Array(state.watchers.values)
    }
    for watcher in watchers { watcher.notify(.notServing, true) }
  }

  /// The service's status now (`SERVICE_UNKNOWN` for a service the server lacks, as the
  /// protocol asks), then its changes, until the server drains (the last is `NOT_SERVING`) or
  /// the consumer stops. A consumer slower than the changes gets the latest, as grpc-go's
  /// health server does.
  func updates(of service: String) -> AsyncStream<Status> {
    AsyncStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
      // Registered and given the current status under the lock, so no change can come first.
      let id = self.state.withLockedValue { state in
        let id = state.nextWatcherID
        state.nextWatcherID += 1
        state.watchers[id] = Watcher(service: service) { status, isFinal in
          continuation.yield(status)
          if isFinal { continuation.finish() }
        }
        continuation.yield(state.statuses[service] ?? .serviceUnknown)
        return id
      }
      continuation.onTermination = { _ in
        _ = self.state.withLockedValue { $0.watchers.removeValue(forKey: id) }
      }
    }
  }
}
