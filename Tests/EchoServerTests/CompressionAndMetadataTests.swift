import GRPCCore
import ProtoMessages
import ProtoStubs
import TestSupport
import Testing

/// Message compression and custom metadata, end to end through grpc-swift-2.
@Suite("Compression and metadata", .timeLimit(.minutes(1)))
struct CompressionAndMetadataTests {
  @Test("a gzip request is answered in gzip and decoded by the client")
  func gzipRoundTrip() async throws {
    let text = String(repeating: "compressible ", count: 200)
    let (reply, encoding) = try await TestServer.with { server in
      try await withEchoClient(server, compression: .gzip) { echo in
        try await echo.echoService(
          Proto_Message(text), options: .test(compression: .gzip)
        ) { response in
          (try response.message.message, Array(response.metadata[stringValues: "grpc-encoding"]))
        }
      }
    }
    #expect(reply == "echo " + text)
    #expect(encoding == ["gzip"])
  }

  @Test("gzip on every message of a bidirectional stream")
  func gzipStream() async throws {
    let replies = try await TestServer.with { server in
      try await withEchoClient(server, compression: .gzip) { echo in
        try await echo.bidirectionalStreamingEcho(options: .test(compression: .gzip)) { writer in
          for word in ["a", "b", "c"] {
            try await writer.write(Proto_Message(String(repeating: word, count: 500)))
          }
        } onResponse: {
          try await collect($0)
        }
      }
    }
    #expect(replies == ["a", "b", "c"].map { "echo " + String(repeating: $0, count: 500) })
  }

  @Test("x-grpc-test-echo-initial returns in the headers, -trailing-bin in the trailers")
  func echoMetadata() async throws {
    let binary: [UInt8] = [0x00, 0x01, 0xfe, 0xff, 0x80, 0x7f, 0x0a]
    var metadata = Metadata()
    metadata.addString("initial value", forKey: "x-grpc-test-echo-initial")
    metadata.addBinary(binary, forKey: "x-grpc-test-echo-trailing-bin")
    metadata.addString("not echoed", forKey: "x-other")
    let request = metadata
    let (initial, trailing, other) = try await TestServer.with { server in
      try await withEchoClient(server) { echo in
        try await echo.echoService(
          Proto_Message("m"), metadata: request, options: .test()
        ) { response in
          (
            Array(response.metadata[stringValues: "x-grpc-test-echo-initial"]),
            Array(response.trailingMetadata[binaryValues: "x-grpc-test-echo-trailing-bin"]),
            Array(response.metadata[stringValues: "x-other"])
              + Array(response.trailingMetadata[stringValues: "x-other"])
          )
        }
      }
    }
    #expect(initial == ["initial value"])
    #expect(trailing == [binary])
    #expect(other.isEmpty)
  }

  @Test("metadata is echoed on a server-streaming call too")
  func echoMetadataStreaming() async throws {
    var metadata = Metadata()
    metadata.addString("s", forKey: "x-grpc-test-echo-initial")
    metadata.addBinary([1, 2, 3], forKey: "x-grpc-test-echo-trailing-bin")
    let request = metadata
    let (initial, trailing) = try await TestServer.with { server in
      try await withEchoClient(server) { echo in
        try await echo.serverStreamingEcho(
          .with { $0.message = "m" }, metadata: request, options: .test()
        ) { response in
          var trailing: [[UInt8]] = []
          for try await part in response.bodyParts {
            if case .trailingMetadata(let metadata) = part {
              trailing += metadata[binaryValues: "x-grpc-test-echo-trailing-bin"]
            }
          }
          return (Array(response.metadata[stringValues: "x-grpc-test-echo-initial"]), trailing)
        }
      }
    }
    #expect(initial == ["s"])
    #expect(trailing == [[1, 2, 3]])
  }
}
