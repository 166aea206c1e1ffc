import GRPCWire
import NIOCore

/// The deadlines of the calls started on one event loop's subchannel, served by one timer.
///
/// Nearly every call finishes long before its deadline, so a timer per call was pure overhead:
/// an event-loop heap insert on start and a linear-time removal on finish, for every request.
/// Here a call joins an array (O(1)) and leaves it by swapping with the last one (O(1)); the one
/// timer is armed for the earliest deadline and, when it fires, ends the calls that are over and
/// re-arms for the next.
final class CallDeadlineTimer {
  private let eventLoop: any EventLoop
  private var calls: [ClientCall] = []
  private var timer: (deadline: NIODeadline, task: Scheduled<Void>)?

  init(eventLoop: any EventLoop) {
    self.eventLoop = eventLoop
  }

  /// Starts watching a call's deadline.
  func add(_ call: ClientCall) {
    self.eventLoop.assertInEventLoop()
    call.deadlineSlot = self.calls.count
    self.calls.append(call)
    self.arm(for: call.deadline)
  }

  /// Stops watching a call (it finished).
  func remove(_ call: ClientCall) {
    guard let slot = call.deadlineSlot else { return }
    call.deadlineSlot = nil
    let last = self.calls.removeLast()
    if slot < self.calls.count {
      self.calls[slot] = last
      last.deadlineSlot = slot
    }
  }

  private func arm(for deadline: NIODeadline) {
    if let armed = self.timer, armed.deadline <= deadline { return }
    self.timer?.task.cancel()
    let timer = NIOLoopBound(self, eventLoop: self.eventLoop)
    let task = self.eventLoop.scheduleTask(deadline: deadline) { timer.value.expire() }
    self.timer = (deadline, task)
  }

  private func expire() {
    self.timer = nil
    let now = NIODeadline.now()
    var next: NIODeadline?
    for call in self.calls {  // A copy: abandoning a call removes it from `calls`.
      if call.deadline <= now {
        call.abandon(GRPCStatus(code: .deadlineExceeded, message: "deadline exceeded"))
      } else {
        next = min(next ?? call.deadline, call.deadline)
      }
    }
    if let next { self.arm(for: next) }
  }
}

@available(*, unavailable)
extension CallDeadlineTimer: Sendable {}
