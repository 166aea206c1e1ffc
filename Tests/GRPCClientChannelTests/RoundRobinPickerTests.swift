import GRPCClientChannel
import Testing

@Suite("Round-robin picker")
struct RoundRobinPickerTests {
  @Test("cycles over ready connections evenly")
  func cycles() {
    var picker = RoundRobinPicker()
    let picks = (0..<6).map { _ in picker.pick(count: 3) { _ in .ready } }
    #expect(picks == [0, 1, 2, 0, 1, 2])
  }

  @Test("can start at any candidate, modulo the count")
  func startingAt() {
    var picker = RoundRobinPicker(startingAt: 4)
    let picks = (0..<4).map { _ in picker.pick(count: 3) { _ in .ready } }
    #expect(picks == [1, 2, 0, 1])
  }

  @Test("skips connections that are not ready")
  func skips() {
    var picker = RoundRobinPicker()
    let states: [RoundRobinPicker.Connectivity] = [.ready, .unavailable, .ready]
    let picks = (0..<4).map { _ in picker.pick(count: 3) { states[$0] } }
    #expect(picks == [0, 2, 0, 2])
  }

  @Test("falls back to a connecting one, and to nothing when all are down")
  func fallback() {
    var picker = RoundRobinPicker()
    #expect(picker.pick(count: 2) { $0 == 1 ? .connecting : .unavailable } == 1)
    #expect(picker.pick(count: 2) { _ in .unavailable } == nil)
    #expect(picker.pick(count: 0) { _ in .ready } == nil)
  }
}
