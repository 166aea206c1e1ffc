import NGHTTP2
import NIOCore

/// A delegate that records every event, and lets a test react to some of them from inside the
/// event (as a real connection handler does).
final class EventRecorder: NGHTTP2SessionDelegate {
  enum Event: Equatable {
    case headers(Int32, NGHTTP2HeaderBlock.Kind, [String], endStream: Bool)
    case data(Int32, [UInt8])
    case endStream(Int32)
    case closed(Int32, errorCode: HTTP2ErrorCode)
    case goAway(lastStreamID: Int32, errorCode: HTTP2ErrorCode)
  }

  private(set) var events: [Event] = []
  /// SETTINGS frames received (acknowledgements not counted).
  private(set) var settingsReceived = 0

  /// What each closed stream carried as its attachment, by stream id.
  private(set) var closedAttachments: [Int32: AnyObject] = [:]

  /// Called after a stream's end of stream is recorded.
  var onEndStream: ((Int32) -> Void)?

  /// Called after body bytes are recorded.
  var onData: ((Int32, [UInt8]) -> Void)?

  func didReceiveHeaders(streamID: Int32, headers: NGHTTP2HeaderBlock, endStream: Bool) {
    let fields = headers.map { "\($0.name): \($0.value)" }
    self.events.append(.headers(streamID, headers.kind, fields, endStream: endStream))
  }

  func didReceiveData(streamID: Int32, data: ByteBuffer) {
    let bytes = Array(data.readableBytesView)
    self.events.append(.data(streamID, bytes))
    self.onData?(streamID, bytes)
  }

  func didReceiveEndStream(streamID: Int32) {
    self.events.append(.endStream(streamID))
    self.onEndStream?(streamID)
  }

  func didCloseStream(streamID: Int32, errorCode: HTTP2ErrorCode, attachment: AnyObject?) {
    self.events.append(.closed(streamID, errorCode: errorCode))
    self.closedAttachments[streamID] = attachment
  }

  func didReceiveGoAway(lastStreamID: Int32, errorCode: HTTP2ErrorCode) {
    self.events.append(.goAway(lastStreamID: lastStreamID, errorCode: errorCode))
  }

  func didReceiveSettings() {
    self.settingsReceived += 1
  }

  /// The events of one stream, with its body chunks merged into one `.data` event, so tests do
  /// not depend on how frames were cut.
  func events(of streamID: Int32) -> [Event] {
    var merged: [Event] = []
    for event in self.events {
      switch event {
      case .headers(streamID, _, _, _), .endStream(streamID), .closed(streamID, _):
        merged.append(event)
      case .data(streamID, let bytes):
        if case .data(_, let previous) = merged.last {
          merged[merged.count - 1] = .data(streamID, previous + bytes)
        } else {
          merged.append(event)
        }
      default:
        break
      }
    }
    return merged
  }

  /// The GOAWAYs received, in order.
  var goAways: [Event] {
    self.events.filter {
      if case .goAway = $0 { true } else { false }
    }
  }

  /// The stream ids whose request headers arrived, in order.
  var requestStreamIDs: [Int32] {
    self.events.compactMap {
      if case .headers(let id, .request, _, _) = $0 { id } else { nil }
    }
  }

  func removeAll() {
    self.events.removeAll()
  }
}
