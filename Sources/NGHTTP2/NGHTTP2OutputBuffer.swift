import NIOCore

/// Where a connection collects a session's frames before writing them: everything nghttp2 has
/// queued goes out in one buffer (one write and one flush per read burst), and the buffer's
/// storage is used again for the next burst once the channel has written it, instead of
/// allocating one per flush.
public struct NGHTTP2OutputBuffer {
  /// Room for a burst of small replies (about 60 bytes of frames each), so that appending
  /// nghttp2's frames one by one rarely reallocates.
  private static let initialCapacity = 4096
  /// The largest buffer kept for reuse; one that grew past it for a large message is let go
  /// with that message.
  private static let largestKept = 64 * 1024

  private let allocator: ByteBufferAllocator
  private var buffer: ByteBuffer

  /// A buffer allocated from `allocator` (the channel's).
  public init(allocator: ByteBufferAllocator) {
    self.allocator = allocator
    self.buffer = allocator.buffer(capacity: Self.initialCapacity)
  }

  /// Everything `session` has queued, or nil when it has nothing to send.
  public mutating func drain(_ session: NGHTTP2Session) throws(NGHTTP2Error) -> ByteBuffer? {
    guard session.wantsWrite else { return nil }
    var output = self.buffer
    self.buffer = ByteBuffer()
    // Keeps the storage when the channel has let go of it (it writes at once unless the socket
    // is full), or starts a fresh one.
    output.clear()
    defer {
      self.buffer =
        output.capacity <= Self.largestKept
        ? output : self.allocator.buffer(capacity: Self.initialCapacity)
    }
    try session.drain(into: &output)
    return output.readableBytes > 0 ? output : nil
  }
}
