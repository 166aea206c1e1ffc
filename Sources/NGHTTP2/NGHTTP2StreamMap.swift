/// Values keyed by HTTP/2 stream id: what a session keeps per open stream.
///
/// A small open-addressing table instead of a `Dictionary`: stream ids of one connection are
/// consecutive odd (or even) numbers, so `id >> 1` spreads the open ones over consecutive slots
/// with no hashing at all, where `Dictionary` runs SipHash on every lookup (about a fiftieth of
/// the server's instructions per RPC went there). Linear probing, at most half full, and
/// backward-shift deletion, so there are no tombstones.
struct NGHTTP2StreamMap<Value> {
  /// Stream ids; 0 marks an empty slot (stream 0 is the connection, never a stream).
  var keys: [Int32]
  var slots: [Value?]
  /// The number of values stored.
  private(set) var count = 0

  /// An empty map.
  init() {
    self.keys = Array(repeating: 0, count: Self.initialCapacity)
    self.slots = Array(repeating: nil, count: Self.initialCapacity)
  }

  static var initialCapacity: Int { 16 }

  /// True when no value is stored.
  var isEmpty: Bool { self.count == 0 }

  /// The value for `streamID`; assigning `nil` removes it.
  subscript(streamID: Int32) -> Value? {
    get {
      self.find(streamID).map { self.slots[$0] } ?? nil
    }
    set {
      if let newValue {
        self.insert(newValue, for: streamID)
      } else {
        self.removeValue(forKey: streamID)
      }
    }
  }

  /// Changes the value for `streamID` in place; nil, without calling `body`, when there is none.
  mutating func update<Result, Failure: Error>(
    _ streamID: Int32,
    _ body: (inout Value) throws(Failure) -> Result
  ) throws(Failure) -> Result? {
    guard let slot = self.find(streamID) else { return nil }
    return try body(&self.slots[slot]!)
  }

  /// Removes and returns the value for `streamID`.
  @discardableResult
  mutating func removeValue(forKey streamID: Int32) -> Value? {
    guard var slot = self.find(streamID) else { return nil }
    let removed = self.slots[slot].take()
    self.keys[slot] = 0
    self.count -= 1
    // Backward-shift deletion: move later entries of the probe run into the gap when their home
    // slot is not between the gap and them, so lookups never meet a hole inside a run.
    var next = (slot + 1) & self.mask
    while self.keys[next] != 0 {
      let home = self.home(self.keys[next])
      let distanceToNext = (next - home) & self.mask
      let distanceToGap = (slot - home) & self.mask
      if distanceToGap < distanceToNext {
        self.keys[slot] = self.keys[next]
        self.slots[slot] = self.slots[next].take()
        self.keys[next] = 0
        slot = next
      }
      next = (next + 1) & self.mask
    }
    return removed
  }

  /// Removes every value, keeping the storage.
  mutating func removeAll() {
    for slot in self.keys.indices where self.keys[slot] != 0 {
      self.keys[slot] = 0
      self.slots[slot] = nil
    }
    self.count = 0
  }

  /// Changes every stored value in place.
  mutating func updateAll(_ body: (inout Value) -> Void) {
    for slot in self.keys.indices where self.keys[slot] != 0 {
      body(&self.slots[slot]!)
    }
  }

  /// The stored values, in no particular order.
  var values: [Value] {
    self.slots.compactMap { $0 }
  }

  var mask: Int { self.keys.count - 1 }

  func home(_ streamID: Int32) -> Int {
    Int(UInt32(bitPattern: streamID) >> 1) & self.mask
  }

  func find(_ streamID: Int32) -> Int? {
    var slot = self.home(streamID)
    while true {
      let key = self.keys[slot]
      if key == streamID { return slot }
      if key == 0 { return nil }
      slot = (slot + 1) & self.mask
    }
  }

  mutating func insert(_ value: Value, for streamID: Int32) {
    precondition(streamID != 0, "stream 0 is the connection, not a stream")
    if let slot = self.find(streamID) {
      self.slots[slot] = value
      return
    }
    if (self.count + 1) * 2 > self.keys.count {
      self.grow()
    }
    var slot = self.home(streamID)
    while self.keys[slot] != 0 { slot = (slot + 1) & self.mask }
    self.keys[slot] = streamID
    self.slots[slot] = value
    self.count += 1
  }

  mutating func grow() {
    let old = (keys: self.keys, slots: self.slots)
    self.keys = Array(repeating: 0, count: old.keys.count * 2)
    self.slots = Array(repeating: nil, count: old.keys.count * 2)
    self.count = 0
    for (key, value) in zip(old.keys, old.slots) where key != 0 {
      self.insert(value!, for: key)
    }
  }
}

extension NGHTTP2StreamMap: Sendable where Value: Sendable {}
