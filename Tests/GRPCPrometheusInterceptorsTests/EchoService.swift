import GRPCCore
import ProtoMessages
import ProtoStubs

/// The echo service the interceptors are tested against. A unary request whose message is a
/// status code name (`"NotFound"`) fails with that code; `"wait"` blocks until the RPC is
/// cancelled and then throws `CancellationError`, as a handler awaiting cancelled work would.
struct EchoService: Proto_EchoService.SimpleServiceProtocol {
  /// Yields once for every `"wait"` request the handler is blocked on.
  let waiting: AsyncStream<Void>.Continuation

  func echoService(request: Proto_Message, context: ServerContext) async throws -> Proto_Message {
    if request.message == "wait" {
      self.waiting.yield()
      // The in-process transport does not tell the server when a client cancels (only the
      // deadline cancels server-side), so the wait is capped instead of stalling shutdown.
      let cancelled = await withTaskGroup(of: Bool.self) { group in
        group.addTask { (try? await context.cancellation.cancelled) != nil }
        group.addTask {
          try? await Task.sleep(for: .seconds(2))
          return false
        }
        let first = await group.next() ?? false
        group.cancelAll()
        return first
      }
      if cancelled {
        throw CancellationError()
      }
      return .with { $0.message = "echo wait" }
    }
    if let code = Self.codes[request.message] {
      throw RPCError(code: code, message: "asked to fail")
    }
    return .with { $0.message = "echo " + request.message }
  }

  func serverStreamingEcho(
    request: Proto_StreamingEchoRequest,
    response: RPCWriter<Proto_Message>,
    context: ServerContext
  ) async throws {
    for _ in 0..<request.count {
      try await response.write(.with { $0.message = "echo " + request.message })
    }
  }

  func clientStreamingEcho(
    request: RPCAsyncSequence<Proto_Message, any Error>,
    context: ServerContext
  ) async throws -> Proto_Message {
    var received: [String] = []
    for try await message in request {
      received.append(message.message)
    }
    return .with { $0.message = "echo " + received.joined(separator: " ") }
  }

  func bidirectionalStreamingEcho(
    request: RPCAsyncSequence<Proto_Message, any Error>,
    response: RPCWriter<Proto_Message>,
    context: ServerContext
  ) async throws {
    for try await message in request {
      if let code = Self.codes[message.message] {
        throw RPCError(code: code, message: "asked to fail")
      }
      try await response.write(.with { $0.message = "echo " + message.message })
    }
  }

  private static let codes: [String: RPCError.Code] = [
    "NotFound": .notFound, "Internal": .internalError, "PermissionDenied": .permissionDenied,
  ]
}
