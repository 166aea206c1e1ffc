import GRPCCore
import ProtoMessages
import ProtoStubs
import TestSupport
import Testing

/// The four RPC shapes of `proto.EchoService`, called through grpc-swift-2's client.
@Suite("proto.EchoService over grpc-swift-2", .timeLimit(.minutes(1)))
struct EchoRPCTests {
  @Test("unary answers `echo <message>`")
  func unary() async throws {
    let reply = try await TestServer.with { server in
      try await withEchoClient(server) { echo in
        try await echo.echoService(Proto_Message("hello"), options: .test())
      }
    }
    #expect(reply.message == "echo hello")
  }

  @Test(
    "server streaming answers 3 times by default", arguments: [(0, 3), (5, 5)] as [(UInt32, Int)])
  func serverStreaming(count: UInt32, expected: Int) async throws {
    let replies = try await TestServer.with { server in
      try await withEchoClient(server) { echo in
        try await echo.serverStreamingEcho(
          .with {
            $0.message = "hi"
            $0.count = count
          },
          options: .test()
        ) { try await collect($0) }
      }
    }
    #expect(replies == Array(repeating: "echo hi", count: expected))
  }

  @Test("server streaming refuses a count above 1000 with INVALID_ARGUMENT")
  func serverStreamingLimit() async throws {
    try await TestServer.with { server in
      let error = await #expect(throws: RPCError.self) {
        try await withEchoClient(server) { echo in
          try await echo.serverStreamingEcho(.with { $0.count = 1001 }, options: .test()) {
            try await collect($0)
          }
        }
      }
      #expect(error?.code == .invalidArgument)
    }
  }

  @Test("client streaming joins the messages with spaces")
  func clientStreaming() async throws {
    let reply = try await TestServer.with { server in
      try await withEchoClient(server) { echo in
        try await echo.clientStreamingEcho(options: .test()) { writer in
          for word in ["one", "two", "three"] { try await writer.write(Proto_Message(word)) }
        }
      }
    }
    #expect(reply.message == "echo one two three")
  }

  @Test("bidirectional streaming answers each message before the next is sent")
  func bidirectionalStreaming() async throws {
    let words = ["alpha", "beta", "gamma", "delta"]
    let replies = try await TestServer.with { server in
      try await withEchoClient(server) { echo in
        let (replied, repliedContinuation) = AsyncStream.makeStream(of: String.self)
        return try await echo.bidirectionalStreamingEcho(options: .test()) { writer in
          var iterator = replied.makeAsyncIterator()
          for word in words {
            try await writer.write(Proto_Message(word))
            // Lockstep: the reply to this message must arrive while the stream is still open.
            guard await iterator.next() != nil else { return }
          }
        } onResponse: { response in
          var replies: [String] = []
          for try await reply in response.messages {
            replies.append(reply.message)
            repliedContinuation.yield(reply.message)
          }
          repliedContinuation.finish()
          return replies
        }
      }
    }
    #expect(replies == words.map { "echo " + $0 })
  }
}
