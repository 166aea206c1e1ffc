internal import CNGHTTP2

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One session's allocator for nghttp2: small blocks are recycled through per-size free lists
/// instead of going back to `malloc` and `free` each time.
///
/// nghttp2 allocates and frees about eight small blocks per request (the stream, each queued
/// frame, copies of header lists, header buffers); taking them from free lists instead of the C
/// library's allocator saves about 600 instructions per request (callgrind). A session is
/// confined to one event loop, so its pool needs no locks. Each class keeps at most
/// ``cachedBlocksPerClass`` free blocks, so what a connection holds on to stays bounded
/// (66 KiB at most, a few KiB in practice); the rest goes back to `free`.
///
/// Classes are powers of two from 32 to 1024 bytes; bigger requests go to `malloc`. Every
/// block starts with a 16-byte header holding its class (-1 for `malloc`'s big blocks), which
/// keeps payloads 16-byte aligned like `malloc`'s.
struct NGHTTP2MemoryPool: ~Copyable {
  /// Free blocks kept per class at most.
  static let cachedBlocksPerClass = 32
  /// Payload size of the largest class.
  static let largestPooledSize = smallestClassSize << (classCount - 1)

  private static let smallestClassSize = 32
  private static let classCount = 6
  private static let headerSize = 16

  /// One class's free blocks, linked through their first word.
  private struct FreeList {
    var head: UnsafeMutableRawPointer?
    var count: Int
  }

  private let lists: UnsafeMutablePointer<FreeList>

  init() {
    self.lists = .allocate(capacity: Self.classCount)
    self.lists.initialize(repeating: FreeList(head: nil, count: 0), count: Self.classCount)
  }

  deinit {
    for sizeClass in 0..<Self.classCount {
      var next = self.lists[sizeClass].head
      while let payload = next {
        next = payload.load(as: UnsafeMutableRawPointer?.self)
        free(payload - Self.headerSize)
      }
    }
    self.lists.deallocate()
  }

  /// The allocator table to create a session with. nghttp2 copies the table; the pool must
  /// outlive the session (delete the session first).
  var table: nghttp2_mem {
    nghttp2_mem(
      mem_user_data: UnsafeMutableRawPointer(self.lists),
      malloc: { size, lists in Self.allocate(size, Self.lists(lists)) },
      free: { payload, lists in Self.release(payload, Self.lists(lists)) },
      calloc: { count, size, lists in Self.allocateZeroed(count, size, Self.lists(lists)) },
      realloc: { payload, size, lists in Self.reallocate(payload, size, Self.lists(lists)) })
  }

  // The table's entry points, for tests.

  /// `malloc`.
  func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
    Self.allocate(size, self.lists)
  }

  /// `calloc`.
  func allocateZeroed(_ count: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    Self.allocateZeroed(count, size, self.lists)
  }

  /// `realloc`.
  func reallocate(_ payload: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
    Self.reallocate(payload, size, self.lists)
  }

  /// `free`.
  func release(_ payload: UnsafeMutableRawPointer?) {
    Self.release(payload, self.lists)
  }

  /// How many free blocks the class `sizeClass` keeps.
  func cachedBlocks(inClass sizeClass: Int) -> Int {
    self.lists[sizeClass].count
  }

  @inline(__always)
  private static func lists(_ userData: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<FreeList>
  {
    userData.unsafelyUnwrapped.assumingMemoryBound(to: FreeList.self)
  }

  /// The class a payload of `size` bytes goes to, or nil when it is too big for the pool.
  @inline(__always)
  static func sizeClass(for size: Int) -> Int? {
    guard size > smallestClassSize else { return 0 }
    // ceil(log2(size)) - log2(smallestClassSize)
    let sizeClass =
      Int.bitWidth - (size - 1).leadingZeroBitCount - smallestClassSize.trailingZeroBitCount
    return sizeClass < classCount ? sizeClass : nil
  }

  private static func allocate(
    _ size: Int, _ lists: UnsafeMutablePointer<FreeList>
  )
    -> UnsafeMutableRawPointer?
  {
    guard let sizeClass = Self.sizeClass(for: size) else {
      return Self.newBlock(sizeClass: -1, payloadSize: size)
    }
    guard let payload = lists[sizeClass].head else {
      return Self.newBlock(sizeClass: sizeClass, payloadSize: Self.smallestClassSize << sizeClass)
    }
    lists[sizeClass].head = payload.load(as: UnsafeMutableRawPointer?.self)
    lists[sizeClass].count -= 1
    return payload
  }

  private static func allocateZeroed(
    _ count: Int, _ size: Int, _ lists: UnsafeMutablePointer<FreeList>
  ) -> UnsafeMutableRawPointer? {
    let (total, overflow) = count.multipliedReportingOverflow(by: size)
    guard !overflow, let payload = Self.allocate(total, lists) else { return nil }
    return memset(payload, 0, total)
  }

  private static func newBlock(sizeClass: Int, payloadSize: Int) -> UnsafeMutableRawPointer? {
    guard let block = malloc(Self.headerSize + payloadSize) else { return nil }
    block.storeBytes(of: sizeClass, as: Int.self)
    return block + Self.headerSize
  }

  private static func release(
    _ payload: UnsafeMutableRawPointer?, _ lists: UnsafeMutablePointer<FreeList>
  ) {
    guard let payload else { return }
    let sizeClass = (payload - Self.headerSize).load(as: Int.self)
    guard sizeClass >= 0, lists[sizeClass].count < Self.cachedBlocksPerClass else {
      free(payload - Self.headerSize)
      return
    }
    payload.storeBytes(of: lists[sizeClass].head, as: UnsafeMutableRawPointer?.self)
    lists[sizeClass].head = payload
    lists[sizeClass].count += 1
  }

  private static func reallocate(
    _ payload: UnsafeMutableRawPointer?, _ size: Int, _ lists: UnsafeMutablePointer<FreeList>
  ) -> UnsafeMutableRawPointer? {
    guard let payload else { return Self.allocate(size, lists) }
    let sizeClass = (payload - Self.headerSize).load(as: Int.self)
    guard sizeClass >= 0 else {
      guard let block = realloc(payload - Self.headerSize, Self.headerSize + size) else {
        return nil
      }
      return block + Self.headerSize
    }
    let capacity = Self.smallestClassSize << sizeClass
    if size <= capacity { return payload }
    guard let moved = Self.allocate(size, lists) else { return nil }
    moved.copyMemory(from: payload, byteCount: capacity)
    Self.release(payload, lists)
    return moved
  }
}
