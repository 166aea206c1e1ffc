/// The text formats a scrape can be answered in.
public enum ExpositionFormat: Sendable, Equatable {
  /// The Prometheus text format 0.0.4, which every scraper reads.
  case prometheusText
  /// OpenMetrics 1.0.0: counter families named without `_total`, `# EOF` at the end.
  case openMetrics

  /// The `Content-Type` of a response in this format.
  public var contentType: String {
    switch self {
    case .prometheusText:
      return "text/plain; version=0.0.4; charset=utf-8"
    case .openMetrics:
      return "application/openmetrics-text; version=1.0.0; charset=utf-8"
    }
  }
}
