/// An HTTP/2 error code (RFC 9113 §7), as RST_STREAM and GOAWAY carry it and as
/// ``NGHTTP2SessionDelegate`` reports it. Codes this side does not know stay as their number.
public struct HTTP2ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  /// The code on the wire.
  public var rawValue: UInt32

  /// The code `rawValue`.
  public init(rawValue: UInt32) {
    self.rawValue = rawValue
  }

  /// NO_ERROR: the stream or connection ended normally.
  public static let noError = Self(rawValue: 0x0)
  /// PROTOCOL_ERROR: the peer broke the protocol.
  public static let protocolError = Self(rawValue: 0x1)
  /// INTERNAL_ERROR: the endpoint failed.
  public static let internalError = Self(rawValue: 0x2)
  /// FLOW_CONTROL_ERROR: the peer broke flow control.
  public static let flowControlError = Self(rawValue: 0x3)
  /// REFUSED_STREAM: the server did not process the stream; it is safe to send it again.
  public static let refusedStream = Self(rawValue: 0x7)
  /// CANCEL: the endpoint no longer wants the stream.
  public static let cancel = Self(rawValue: 0x8)
  /// ENHANCE_YOUR_CALM: the peer is generating excessive load.
  public static let enhanceYourCalm = Self(rawValue: 0xb)

  /// The RFC's name and the number, such as `CANCEL (8)`.
  public var description: String {
    let names = [
      "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
      "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
      "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
    ]
    let index = Int(self.rawValue)
    return index < names.count ? "\(names[index]) (\(index))" : "unknown error \(self.rawValue)"
  }
}
