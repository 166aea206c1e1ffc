extension ExpositionFormat {
  /// The format to answer a request whose `Accept` header is `accept`.
  ///
  /// Like Go's `expfmt.Negotiate`, the highest-quality media range this library can produce
  /// wins, earlier ranges winning ties; OpenMetrics counts only as version 1.0.0 or without a
  /// version, since 0.0.1 differs. With no usable range (or no header) the answer is the
  /// Prometheus text format, which every scraper accepts.
  public static func negotiate(accept: String?) -> ExpositionFormat {
    guard let accept else { return .prometheusText }
    var best: (format: ExpositionFormat, quality: Double)?
    for range in accept.split(separator: ",") {
      guard let (format, quality) = Self.parse(mediaRange: range), quality > 0 else { continue }
      if quality > best?.quality ?? 0 {
        best = (format, quality)
      }
    }
    return best?.format ?? .prometheusText
  }

  /// The format one media range asks for and its quality, or `nil` if it names neither format.
  private static func parse(mediaRange: Substring) -> (ExpositionFormat, Double)? {
    let parts = mediaRange.split(separator: ";").map {
      $0.trimmingASCIISpaces().lowercased()
    }
    guard let mediaType = parts.first else { return nil }
    var quality = 1.0
    var version: String?
    for parameter in parts.dropFirst() {
      let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingASCIISpaces() }
      guard pair.count == 2 else { continue }
      switch pair[0] {
      case "q": quality = Double(pair[1]) ?? 0
      case "version": version = pair[1]
      default: continue
      }
    }

    switch mediaType {
    case "application/openmetrics-text" where version == nil || version == "1.0.0":
      return (.openMetrics, quality)
    case "text/plain" where version == nil || version == "0.0.4", "text/*", "*/*":
      return (.prometheusText, quality)
    default:
      return nil
    }
  }
}

extension Substring {
  fileprivate func trimmingASCIISpaces() -> String {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    guard let first = self.firstIndex(where: { !isSpace($0) }),
      let last = self.lastIndex(where: { !isSpace($0) })
    else { return "" }
    return String(self[first...last])
  }
}
