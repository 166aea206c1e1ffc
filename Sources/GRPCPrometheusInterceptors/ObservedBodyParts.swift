import GRPCCore

/// The response parts of a client call, counting received messages and recording the end of
/// the call when the stream ends or fails.
struct ObservedBodyParts<Message: Sendable>: AsyncSequence, Sendable {
  typealias Part = StreamingClientResponse<Message>.Contents.BodyPart
  typealias Element = Part

  let base: RPCAsyncSequence<Part, any Error>
  let recorder: ClientCallRecorder

  func makeAsyncIterator() -> AsyncIterator {
    AsyncIterator(base: self.base.makeAsyncIterator(), recorder: self.recorder)
  }

  struct AsyncIterator: AsyncIteratorProtocol {
    var base: RPCAsyncSequence<Part, any Error>.AsyncIterator
    let recorder: ClientCallRecorder

    mutating func next(isolation actor: isolated (any Actor)?) async throws(any Error) -> Part? {
      let start = ContinuousClock.now
      let part: Part?
      do {
        part = try await self.base.next(isolation: actor)
      } catch {
        self.observeReceive(since: start)
        self.recorder.finish(throwing: error)
        throw error
      }

      switch part {
      case .message:
        self.observeReceive(since: start)
        self.recorder.metrics.receivedMessage()
      case .trailingMetadata:
        // Trailers arrive only with an OK status (others throw): Go's final RecvMsg returning
        // io.EOF, timed and counted like it.
        self.observeReceive(since: start)
        self.recorder.finish(.ok)
      case .none:
        self.recorder.finish(.ok)
      }
      return part
    }

    mutating func next() async throws -> Part? {
      try await self.next(isolation: nil)
    }

    /// A no-op for unary methods, which have no per-message histogram (Go times streams only).
    private func observeReceive(since start: ContinuousClock.Instant) {
      self.recorder.metrics.observeReceive(start.duration(to: .now))
    }
  }
}
