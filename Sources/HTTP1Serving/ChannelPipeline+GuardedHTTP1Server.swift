import NIOCore
import NIOHTTP1

extension ChannelPipeline.SynchronousOperations {
  /// The HTTP/1.1 server handlers both processes use: NIO's encoder, decoder and pipelining
  /// handler, with ``HTTP1RequestGuard`` holding each request to `limits` and answering what
  /// cannot be parsed, and ``HTTP1WritabilityGate`` for clients that do not read. The caller adds
  /// its request handler after them.
  ///
  /// - Parameter outboundHeaderValidation: Whether NIO validates response headers; off where
  ///   every header written is a constant or a number.
  public func configureGuardedHTTP1Server(
    limits: HTTP1ConnectionLimits, outboundHeaderValidation: Bool = true
  ) throws {
    let requestGuard = HTTP1RequestGuard(limits: limits)
    // The parser refuses headers past the limit however they arrive (HTTPParserError
    // .headerOverflow, answered 431); the guard's byte count covers a head that arrives in
    // several reads, request line included.
    var decoderLimits = NIOHTTPDecoderLimitConfiguration()
    decoderLimits.maxHeaderFieldSize = min(limits.maxHeadBytes, decoderLimits.maxHeaderFieldSize)
    decoderLimits.maxHeaderListSize = min(limits.maxHeadBytes, decoderLimits.maxHeaderListSize)
    try self.configureHTTPServerPipeline(
      withErrorHandling: false, withOutboundHeaderValidation: outboundHeaderValidation,
      withEncoderConfiguration: .init(), withDecoderLimitConfiguration: decoderLimits)
    let decoder = try self.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
    try self.addHandler(requestGuard, position: .after(decoder))
    let encoder = try self.handler(type: HTTPResponseEncoder.self)
    try self.addHandler(HTTP1RequestBytes(requestGuard: requestGuard), position: .before(encoder))
    try self.addHandler(HTTP1WritabilityGate())
  }
}
