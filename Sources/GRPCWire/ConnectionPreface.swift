import NIOCore

/// Tells HTTP/2 prior-knowledge connections from HTTP/1.1 ones on a shared port (what cmux does
/// for the Go server), by the client's first bytes.
public enum ConnectionPreface {
  /// The protocol a connection speaks, or that more bytes are needed to tell.
  public enum Detection: Hashable, Sendable {
    /// The client sent the full HTTP/2 connection preface.
    case http2
    /// The bytes diverge from the HTTP/2 preface, so this is not HTTP/2; treat it as HTTP/1.1.
    case http1
    /// Every byte so far matches the HTTP/2 preface, but it is not complete yet.
    case needMoreBytes
  }

  /// The client connection preface of RFC 9113 section 3.4.
  public static let http2: StaticString = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

  /// Classifies the readable bytes of `buffer` (not consumed) as soon as they decide it: the
  /// first byte that differs from the preface means HTTP/1.1, so an HTTP/1.1 client is never
  /// kept waiting for 24 bytes it may never send.
  public static func detect(_ buffer: ByteBuffer) -> Detection {
    Self.http2.withUTF8Buffer { preface in
      buffer.withUnsafeReadableBytes { received in
        let diverges = zip(received, preface).contains { $0 != $1 }
        if diverges { return .http1 }
        return received.count >= preface.count ? .http2 : .needMoreBytes
      }
    }
  }
}
