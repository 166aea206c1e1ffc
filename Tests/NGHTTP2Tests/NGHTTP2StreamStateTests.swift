import NIOCore
import Testing

@testable import NGHTTP2

@Suite("Outbound stream state")
struct NGHTTP2StreamStateTests {
  @Test("Queued chunks are read in order across frame-sized reads, then the trailers")
  func readsAcrossChunks() throws {
    var state = NGHTTP2StreamState(provider: .none)
    try state.headersSubmitted(endStream: false)
    #expect(try !state.enqueue(ByteBuffer(string: "abcde"), endStream: false))
    #expect(try !state.enqueue(ByteBuffer(string: "fgh"), endStream: false))
    #expect(try !state.enqueueTrailers([("grpc-status", "0")]))

    var frame = [UInt8](repeating: 0, count: 3)
    var read: [UInt8] = []
    var outcome = NGHTTP2StreamState.Read.deferred
    repeat {
      outcome = frame.withUnsafeMutableBytes { state.read(into: $0) }
      switch outcome {
      case .bytes(let count), .end(let count, _):
        read += frame.prefix(count)
      case .deferred:
        Issue.record("deferred with bytes queued")
      }
    } while !(outcome.isEnd)
    #expect(read == Array("abcdefgh".utf8))
    #expect(state.provider == .finished)
  }

  @Test("An empty queue defers, and the next submission asks for a resume exactly once")
  func defersAndResumes() throws {
    var state = NGHTTP2StreamState(provider: .reading)
    var frame = [UInt8](repeating: 0, count: 16)
    let first = frame.withUnsafeMutableBytes { state.read(into: $0) }
    #expect(first.isDeferred)
    #expect(try state.enqueue(ByteBuffer(string: "a"), endStream: false))
    #expect(try !state.enqueue(ByteBuffer(string: "b"), endStream: true))
    let second = frame.withUnsafeMutableBytes { state.read(into: $0) }
    #expect(second.isEnd)
    #expect(throws: NGHTTP2Error.self) {
      try state.enqueue(ByteBuffer(string: "c"), endStream: false)
    }
  }
}

extension NGHTTP2StreamState.Read {
  fileprivate var isEnd: Bool {
    if case .end = self { true } else { false }
  }

  fileprivate var isDeferred: Bool {
    if case .deferred = self { true } else { false }
  }
}
