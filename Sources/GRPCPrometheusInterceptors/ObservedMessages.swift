import GRPCCore

/// The request messages of a server RPC, reporting each one the handler actually reads.
struct ObservedMessages<Message: Sendable>: AsyncSequence, Sendable {
  typealias Element = Message

  let base: RPCAsyncSequence<Message, any Error>
  let onMessage: @Sendable () -> Void

  func makeAsyncIterator() -> AsyncIterator {
    AsyncIterator(base: self.base.makeAsyncIterator(), onMessage: self.onMessage)
  }

  struct AsyncIterator: AsyncIteratorProtocol {
    var base: RPCAsyncSequence<Message, any Error>.AsyncIterator
    let onMessage: @Sendable () -> Void

    mutating func next(isolation actor: isolated (any Actor)?) async throws(any Error) -> Message? {
      let message = try await self.base.next(isolation: actor)
      if message != nil {
        self.onMessage()
      }
      return message
    }

    mutating func next() async throws -> Message? {
      try await self.next(isolation: nil)
    }
  }
}
