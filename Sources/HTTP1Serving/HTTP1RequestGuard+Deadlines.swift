import NIOCore

/// The guard's deadlines (a request's head, its body, a keep-alive connection's idleness) and the
/// one timer that watches them.
extension HTTP1RequestGuard {
  func setIdleDeadline(context: ChannelHandlerContext) {
    guard case .idle = self.phase, self.owed <= 0 else { return }
    self.setDeadline(.idle, context: context)
  }

  func setDeadline(_ kind: Deadline, context: ChannelHandlerContext) {
    let now = context.eventLoop.now
    let timeout: TimeAmount
    switch kind {
    case .head: timeout = self.limits.headTimeout
    case .body: timeout = self.limits.bodyTimeout
    case .idle: timeout = self.limits.idleTimeout
    }
    self.deadline = (kind, now + timeout)
    if self.timer == nil { self.setTimer(now: now, context: context) }
  }

  private func setTimer(now: NIODeadline, context: ChannelHandlerContext) {
    guard let deadline = self.deadline else { return }
    let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
    self.timer = context.eventLoop.scheduleTask(
      deadline: min(deadline.at, now + self.checkInterval)
    ) {
      let (guardHandler, context) = bound.value
      guardHandler.timer = nil
      guardHandler.checkDeadline(context: context)
    }
  }

  private func checkDeadline(context: ChannelHandlerContext) {
    guard let deadline = self.deadline else { return }  // set again with the next deadline
    let now = context.eventLoop.now
    guard deadline.at <= now else {
      self.setTimer(now: now, context: context)
      return
    }
    self.deadline = nil
    self.deadlinePassed(deadline.kind, context: context)
  }

  private func deadlinePassed(_ kind: Deadline, context: ChannelHandlerContext) {
    switch kind {
    case .head:
      self.refuse(.timedOut("head", after: self.limits.headTimeout), context: context)
    case .body:
      self.refuse(.timedOut("body", after: self.limits.bodyTimeout), context: context)
    case .idle:
      context.close(promise: nil)  // A keep-alive connection nobody uses any more.
    }
  }

  func cancelTimer() {
    self.timer?.cancel()
    self.timer = nil
  }
}
