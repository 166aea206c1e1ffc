#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How many event loops the servers and gateways the tests start run on: one, unless
/// `GRPC_PROMETHEUS_TEST_THREADS` says otherwise (`make test-tsan` sets 2, so ThreadSanitizer
/// sees connections served on different loops). A test's own `configure` may still override it.
enum TestEventLoops {
  static let count: Int = {
    let value = ProcessInfo.processInfo.environment["GRPC_PROMETHEUS_TEST_THREADS"]
    return value.flatMap { Int($0) }.map { max($0, 1) } ?? 1
  }()
}
