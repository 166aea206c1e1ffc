import NIOCore
import NIOHTTP1

/// Hands the request handler one request at a time, in order (HTTP/1.1 answers pipelined
/// requests in the order they came). A request that arrives while the previous one is still being
/// answered waits here, and so does one that arrives while the connection cannot take more
/// response bytes, so a client that pipelines requests and never reads their replies makes the
/// process wait instead of buffering every reply.
///
/// Reading from the socket stops only while a request waits here. A client that sends its next
/// request after the previous answer is read without a pause; NIO's `HTTPServerPipelineHandler`,
/// which this replaces, stops reading until each response is written, and the channel then
/// leaves and rejoins the event loop's read interest (two `epoll_ctl` calls) for every request.
///
/// When the server quiesces, an idle connection closes at once; one that is answering marks the
/// response `Connection: close`, closes once it is written, and the requests waiting are dropped.
final class HTTP1RequestQueue: ChannelDuplexHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias InboundOut = HTTPServerRequestPart
  typealias OutboundIn = HTTP1Answer
  typealias OutboundOut = HTTP1Answer

  /// A request handed on whose last part has not been handed on yet.
  private var isReceiving = false
  /// A request handed on whose response has not ended yet.
  private var isAnswering = false
  /// The parts of the requests behind the one being answered.
  private var waiting = CircularBuffer<HTTPServerRequestPart>()
  /// A read asked for while a request waited, issued once none does.
  private var isReadHeld = false
  private var isQuiescing = false
  /// Set while waiting parts are handed on: an answer written meanwhile (the handler answers
  /// some requests at once) leaves the rest to the loop already running instead of recursing
  /// once per waiting request.
  private var isHandingOnWaiting = false

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let part = self.unwrapInboundIn(data)
    if self.waiting.isEmpty, self.mayHandOn(part, context: context) {
      self.handOn(part, context: context)
    } else if !self.isQuiescing {
      self.waiting.append(part)
    }
  }

  func read(context: ChannelHandlerContext) {
    if self.waiting.isEmpty {
      context.read()
    } else {
      self.isReadHeld = true
    }
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    self.isAnswering = false
    guard self.isQuiescing else {
      context.write(data, promise: promise)
      self.handOnWaiting(context: context)
      return
    }
    var answer = self.unwrapOutboundIn(data)
    answer.keepAlive = false
    guard !self.isReceiving else {  // Closed once the request has ended.
      context.write(self.wrapOutboundOut(answer), promise: promise)
      return
    }
    let channel = context.channel
    let written = context.write(self.wrapOutboundOut(answer))
    written.cascade(to: promise)
    written.whenComplete { _ in channel.close(promise: nil) }
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    context.fireChannelWritabilityChanged()
    self.handOnWaiting(context: context)
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    guard event is ChannelShouldQuiesceEvent else {
      context.fireUserInboundEventTriggered(event)
      return
    }
    self.isQuiescing = true
    self.waiting.removeAll()
    if !self.isReceiving, !self.isAnswering { context.close(promise: nil) }
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    self.waiting.removeAll()
  }

  /// Whether `part` can go to the request handler now: a request's body and end follow its head;
  /// a new request waits until the one before it is answered and the socket can take its answer.
  private func mayHandOn(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) -> Bool {
    switch part {
    case .head: !self.isAnswering && !self.isQuiescing && context.channel.isWritable
    case .body, .end: self.isReceiving
    }
  }

  private func handOn(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
    switch part {
    case .head:
      self.isReceiving = true
      self.isAnswering = true
    case .body:
      break
    case .end:
      self.isReceiving = false
      if self.isQuiescing, !self.isAnswering {
        context.close(promise: nil)
        return
      }
    }
    context.fireChannelRead(self.wrapInboundOut(part))
  }

  /// Hands on the waiting parts up to the next request that cannot go yet, and reads again once
  /// nothing waits.
  private func handOnWaiting(context: ChannelHandlerContext) {
    guard !self.isHandingOnWaiting else { return }
    self.isHandingOnWaiting = true
    defer { self.isHandingOnWaiting = false }
    var handedOn = false
    while let part = self.waiting.first, self.mayHandOn(part, context: context) {
      self.waiting.removeFirst()
      self.handOn(part, context: context)
      handedOn = true
    }
    if handedOn { context.fireChannelReadComplete() }
    if self.waiting.isEmpty, self.isReadHeld {
      self.isReadHeld = false
      context.read()
    }
  }
}

@available(*, unavailable)
extension HTTP1RequestQueue: Sendable {}
