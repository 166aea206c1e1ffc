import GRPCPrometheus

/// Renders a series key as the exposition writes it: `name{label="value",...}` in the given
/// (already sorted) label order.
func series(_ name: String, _ labels: [(String, String)]) -> String {
  guard !labels.isEmpty else { return name }
  return name + "{" + labels.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",") + "}"
}

/// The sorted label pairs Go writes for `method`, with `code` for `*_handled_total`.
func goLabels(_ method: GRPCMethod, code: String? = nil) -> [(String, String)] {
  var labels: [(String, String)] = []
  if let code { labels.append(("grpc_code", code)) }
  labels.append(("grpc_method", method.method))
  labels.append(("grpc_service", method.service))
  labels.append(("grpc_type", method.type.rawValue))
  return labels
}

/// Every series of one histogram in Go's spelling, from cumulative bucket counts.
func histogramSeries(
  _ name: String,
  _ labels: [(String, String)],
  buckets: [(String, Double)],
  sum: Double,
  count: Double
) -> [String: Double] {
  var result: [String: Double] = [:]
  for (bound, value) in buckets {
    result[series(name + "_bucket", labels + [("le", bound)])] = value
  }
  result[series(name + "_bucket", labels + [("le", "+Inf")])] = count
  result[series(name + "_sum", labels)] = sum
  result[series(name + "_count", labels)] = count
  return result
}

let goDefaultBounds = [
  "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
]

/// Expects `actual` to hold exactly the series of `expected`, values equal within rounding.
func sameSeries(_ actual: [String: Double], _ expected: [String: Double]) -> [String] {
  var problems: [String] = []
  for key in Set(actual.keys).union(expected.keys).sorted() {
    switch (actual[key], expected[key]) {
    case (nil, let value?): problems.append("missing \(key) \(value)")
    case (let value?, nil): problems.append("unexpected \(key) \(value)")
    case (let got?, let want?) where abs(got - want) > 1e-9:
      problems.append("\(key): \(got) != \(want)")
    default: continue
    }
  }
  // The first few say what is wrong; thousands would bury it.
  return Array(problems.prefix(12))
}
