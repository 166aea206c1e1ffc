import Testing

@testable import NGHTTP2

@Suite("nghttp2 memory pool")
struct NGHTTP2MemoryPoolTests {
  @Test("sizes go to the smallest power-of-two class that fits, big ones to malloc")
  func sizeClasses() {
    let expected: [(size: Int, sizeClass: Int?)] = [
      (0, 0), (1, 0), (32, 0), (33, 1), (64, 1), (65, 2), (128, 2), (129, 3), (256, 3),
      (257, 4), (512, 4), (513, 5), (1024, 5), (1025, nil), (1 << 20, nil),
    ]
    for (size, sizeClass) in expected {
      #expect(NGHTTP2MemoryPool.sizeClass(for: size) == sizeClass, "size \(size)")
    }
    #expect(NGHTTP2MemoryPool.largestPooledSize == 1024)
  }

  @Test("a freed block is handed out again for the next request of its class")
  func reuse() throws {
    let pool = NGHTTP2MemoryPool()
    let allocated = pool.allocate(100)
    let first = try #require(allocated)
    pool.release(first)
    #expect(pool.cachedBlocks(inClass: 2) == 1)
    let again = pool.allocate(120)
    #expect(again == first)
    #expect(pool.cachedBlocks(inClass: 2) == 0)
    pool.release(first)
    pool.release(nil)
  }

  @Test("each class keeps a bounded number of free blocks")
  func boundedCache() {
    let pool = NGHTTP2MemoryPool()
    let blocks = (0..<(NGHTTP2MemoryPool.cachedBlocksPerClass + 10)).compactMap { _ in
      pool.allocate(16)
    }
    #expect(blocks.count == NGHTTP2MemoryPool.cachedBlocksPerClass + 10)
    blocks.forEach { pool.release($0) }
    #expect(pool.cachedBlocks(inClass: 0) == NGHTTP2MemoryPool.cachedBlocksPerClass)
    pool.release(pool.allocate(NGHTTP2MemoryPool.largestPooledSize + 1))
    for sizeClass in 1..<6 { #expect(pool.cachedBlocks(inClass: sizeClass) == 0) }
  }

  @Test("calloc zeroes, and refuses a size that overflows")
  func zeroed() throws {
    let pool = NGHTTP2MemoryPool()
    // Dirty a block, free it, and get it back zeroed.
    let allocated = pool.allocate(200)
    let dirty = try #require(allocated)
    dirty.initializeMemory(as: UInt8.self, repeating: 0xAB, count: 200)
    pool.release(dirty)
    let zeroedAllocation = pool.allocateZeroed(25, 8)
    let zeroed = try #require(zeroedAllocation)
    #expect(zeroed == dirty)
    #expect(UnsafeRawBufferPointer(start: zeroed, count: 200).allSatisfy { $0 == 0 })
    pool.release(zeroed)
    let overflowing = pool.allocateZeroed(Int.max, 2)
    #expect(overflowing == nil)
  }

  @Test("random malloc, calloc, realloc and free keep every block's bytes and alignment")
  func randomModel() throws {
    var random = SystemRandomNumberGenerator()
    let pool = NGHTTP2MemoryPool()
    // Each live block is filled with its own byte pattern, checked before every change.
    var live: [(pointer: UnsafeMutableRawPointer, size: Int, pattern: UInt8)] = []
    func check(_ block: (pointer: UnsafeMutableRawPointer, size: Int, pattern: UInt8)) {
      #expect(Int(bitPattern: block.pointer) % 16 == 0)
      #expect(
        UnsafeRawBufferPointer(start: block.pointer, count: block.size).allSatisfy {
          $0 == block.pattern
        })
    }
    for step in 0..<20_000 {
      let size = Int(random.next() % 2_000)
      let pattern = UInt8(truncatingIfNeeded: step)
      switch random.next() % 4 {
      case 0, 1:
        let allocated = step % 2 == 0 ? pool.allocate(size) : pool.allocateZeroed(1, size)
        let pointer = try #require(allocated)
        pointer.initializeMemory(as: UInt8.self, repeating: pattern, count: size)
        live.append((pointer, size, pattern))
      case 2 where !live.isEmpty:
        let index = Int(random.next() % UInt64(live.count))
        let block = live[index]
        check(block)
        let reallocated = pool.reallocate(block.pointer, size)
        let moved = try #require(reallocated)
        // realloc keeps the common prefix; refill the whole block with the old pattern.
        #expect(
          UnsafeRawBufferPointer(start: moved, count: min(size, block.size)).allSatisfy {
            $0 == block.pattern
          })
        moved.initializeMemory(as: UInt8.self, repeating: block.pattern, count: size)
        live[index] = (moved, size, block.pattern)
      case 3 where !live.isEmpty:
        let block = live.remove(at: Int(random.next() % UInt64(live.count)))
        check(block)
        pool.release(block.pointer)
      default:
        continue
      }
    }
    live.forEach { check($0) }
    let starts = Set(live.map { Int(bitPattern: $0.pointer) })
    #expect(starts.count == live.count, "two live blocks share an address")
    live.forEach { pool.release($0.pointer) }
  }
}
