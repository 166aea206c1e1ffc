/// An operation in a test that did not finish in the time it was given.
public struct TestTimeoutError: Error, CustomStringConvertible {
  /// What was being waited for.
  public var operation: String
  /// How long it was given.
  public var timeout: Duration

  /// "`operation` did not finish within `timeout`".
  public var description: String {
    "\(self.operation) did not finish within \(self.timeout)"
  }
}

/// Runs `body`, cancelling it and throwing ``TestTimeoutError`` if it takes longer than
/// `timeout`, so that a hung peer fails one test instead of stalling the whole run.
public func withTimeout<T: Sendable>(
  _ timeout: Duration,
  _ operation: String = "operation",
  _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
  try await withThrowingTaskGroup(of: T.self) { group in
    group.addTask { try await body() }
    group.addTask {
      try await Task.sleep(for: timeout)
      throw TestTimeoutError(operation: operation, timeout: timeout)
    }
    defer { group.cancelAll() }
    guard let first = try await group.next() else {
      throw TestTimeoutError(operation: operation, timeout: timeout)
    }
    return first
  }
}
