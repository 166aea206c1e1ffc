import GRPCCore

/// Passes messages to another writer and reports each successful write with how long it took,
/// so a message that failed to go out is never counted as sent.
struct ObservedRPCWriter<Element: Sendable>: RPCWriterProtocol {
  private let base: RPCWriter<Element>
  private let onWrite: @Sendable (Duration) -> Void

  init(base: RPCWriter<Element>, onWrite: @escaping @Sendable (Duration) -> Void) {
    self.base = base
    self.onWrite = onWrite
  }

  func write(_ element: Element) async throws {
    let start = ContinuousClock.now
    try await self.base.write(element)
    self.onWrite(start.duration(to: .now))
  }

  func write(contentsOf elements: some Sequence<Element>) async throws {
    // One at a time, so every message is counted and timed on its own as Go's SendMsg is.
    for element in elements {
      try await self.write(element)
    }
  }
}
