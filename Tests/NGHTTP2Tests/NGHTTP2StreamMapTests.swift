import Testing

@testable import NGHTTP2

@Suite("Stream map")
struct NGHTTP2StreamMapTests {
  @Test("stores, updates, removes and lists values by stream id")
  func basics() {
    var map = NGHTTP2StreamMap<String>()
    #expect(map.isEmpty)
    map[1] = "one"
    map[3] = "three"
    map[3] = "THREE"
    #expect(map.count == 2)
    #expect(map[1] == "one")
    #expect(map[3] == "THREE")
    #expect(map[5] == nil)
    #expect(
      map.update(1) { value -> Int in
        value += "!"
        return value.count
      } == 4)
    #expect(map.update(7) { _ in 0 } == nil, "no call for a missing stream")
    #expect(map.removeValue(forKey: 1) == "one!")
    #expect(map.removeValue(forKey: 1) == nil)
    map[3] = nil
    #expect(map.isEmpty)
    #expect(map.values.isEmpty)
  }

  @Test("behaves like a Dictionary through growth, wrap-around and colliding ids")
  func matchesDictionary() {
    var map = NGHTTP2StreamMap<Int>()
    var model: [Int32: Int] = [:]
    var generator = SystemRandomNumberGenerator()
    // Ids from a window that slides (as a connection's stream ids do) plus ids 64 apart, which
    // share a home slot in a 32- or 64-slot table.
    var next: Int32 = 1
    for step in 0..<20_000 {
      let id: Int32
      switch Int.random(in: 0..<4, using: &generator) {
      case 0:
        id = next
        next += 2
      case 1: id = Int32.random(in: max(1, next - 200)...next, using: &generator) | 1
      case 2: id = (Int32.random(in: 0..<8, using: &generator) * 64 + 1)
      default: id = model.keys.randomElement(using: &generator) ?? 1
      }
      if Bool.random(using: &generator) {
        map[id] = step
        model[id] = step
      } else {
        #expect(map.removeValue(forKey: id) == model.removeValue(forKey: id))
      }
      if step % 97 == 0 {
        #expect(map.count == model.count)
        for (key, value) in model { #expect(map[key] == value) }
        #expect(map.values.sorted() == model.values.sorted())
      }
    }
    map.removeAll()
    #expect(map.isEmpty && map[1] == nil)
  }
}
