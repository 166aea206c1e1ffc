import GRPCPrometheus
import Prometheus

/// Reads counters back from a registry's text exposition, by method, as a dashboard would.
struct MetricsReader {
  let registry: PrometheusCollectorRegistry

  func samples() -> [String: Double] {
    let text = String(
      decoding: MetricsExposition(registry: self.registry).render(.prometheusText),
      as: UTF8.self
    )
    var samples: [String: Double] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
      let space = line.lastIndex(of: " ")!
      samples[String(line[..<space])] = Double(line[line.index(after: space)...])!
    }
    return samples
  }

  /// The value of `name` (a counter, or `_count` of a histogram) for `method`, and `code`.
  func value(_ name: String, _ method: String, _ type: String, code: String? = nil) -> Double? {
    self.samples()[Self.key(name, method, type, code: code)]
  }

  /// The `handled_total` codes of `method` that are not zero, from one exposition (rendering
  /// one per code would make a test that polls this cost seconds under AddressSanitizer).
  func handled(_ side: String, _ method: String, _ type: String) -> [String: Double] {
    let samples = self.samples()
    var result: [String: Double] = [:]
    for code in GRPCCode.allCases {
      let key = Self.key("grpc_\(side)_handled_total", method, type, code: code.goName)
      let count = samples[key] ?? -1
      if count != 0 { result[code.goName] = count }
    }
    return result
  }

  private static func key(
    _ name: String, _ method: String, _ type: String, code: String?
  )
    -> String
  {
    let codeLabel = code.map { #"grpc_code="\#($0)","# } ?? ""
    return name + "{" + codeLabel + #"grpc_method="\#(method)",grpc_service="proto.EchoService","#
      + #"grpc_type="\#(type)"}"#
  }

  /// Polls until `condition` holds: the server records an RPC's end on its own task, which may
  /// finish just after the client has seen the status.
  func eventually(_ condition: (MetricsReader) -> Bool) async -> Bool {
    for _ in 0..<200 {
      if condition(self) { return true }
      try? await Task.sleep(for: .milliseconds(10))
    }
    return condition(self)
  }
}
