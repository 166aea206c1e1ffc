import NIOCore
import NIOHTTP1

extension ChannelPipeline.SynchronousOperations {
  /// The HTTP/1.1 server handlers both processes use: NIO's encoder and decoder, with
  /// ``HTTP1RequestGuard`` holding each request to `limits` and answering what cannot be parsed,
  /// and ``HTTP1RequestQueue`` handing on one request at a time (pipelining, clients that do not
  /// read, quiescing). The caller adds its request handler after them.
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
      withPipeliningAssistance: false, withErrorHandling: false,
      withOutboundHeaderValidation: outboundHeaderValidation,
      withEncoderConfiguration: .init(), withDecoderLimitConfiguration: decoderLimits)
    let decoder = try self.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
    try self.addHandler(requestGuard, position: .after(decoder))
    let encoder = try self.handler(type: HTTPResponseEncoder.self)
    try self.addHandler(HTTP1RequestBytes(requestGuard: requestGuard), position: .before(encoder))
    try self.addHandler(HTTP1RequestQueue())
  }
}
