import NIOCore
import NIOHTTP1

extension ChannelPipeline.SynchronousOperations {
  /// The HTTP/1.1 server handlers both processes use: NIO's request decoder, with
  /// ``HTTP1RequestGuard`` holding each request to `limits` and answering what cannot be parsed,
  /// ``HTTP1RequestQueue`` handing on one request at a time (pipelining, clients that do not read,
  /// quiescing) and ``HTTP1ResponseEncoder`` writing each response whole. The caller adds its
  /// request handler after them; it answers with ``HTTP1Response/write(answering:on:)``.
  public func configureGuardedHTTP1Server(limits: HTTP1ConnectionLimits) throws {
    let requestGuard = HTTP1RequestGuard(limits: limits)
    // The parser refuses headers past the limit however they arrive (HTTPParserError
    // .headerOverflow, answered 431); the guard's byte count covers a head that arrives in
    // several reads, request line included.
    var decoderLimits = NIOHTTPDecoderLimitConfiguration()
    decoderLimits.maxHeaderFieldSize = min(limits.maxHeadBytes, decoderLimits.maxHeaderFieldSize)
    decoderLimits.maxHeaderListSize = min(limits.maxHeadBytes, decoderLimits.maxHeaderListSize)
    let decoder = ByteToMessageHandler(HTTPRequestDecoder(limitConfiguration: decoderLimits))
    try self.addHandler(HTTP1ResponseEncoder())
    try self.addHandler(decoder)
    try self.addHandler(requestGuard)
    try self.addHandler(HTTP1RequestQueue())
    // Added last: it finds the guard's context when it is added.
    try self.addHandler(HTTP1RequestBytes(requestGuard: requestGuard), position: .before(decoder))
  }
}
