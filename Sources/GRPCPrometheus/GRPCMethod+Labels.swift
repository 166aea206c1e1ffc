extension GRPCMethod {
  /// The label pairs of one series, sorted by name as Go's registry sorts them, so the rendered
  /// text reads the same as a Go exposition (`grpc_code`, `grpc_method`, `grpc_service`,
  /// `grpc_type`, with constant labels sorted in).
  func labels(constant: [String: String], code: GRPCCode? = nil) -> [(String, String)] {
    var labels = constant.map { ($0.key, $0.value) }
    labels.append(("grpc_type", self.type.rawValue))
    labels.append(("grpc_service", self.service))
    labels.append(("grpc_method", self.method))
    if let code {
      labels.append(("grpc_code", code.goName))
    }
    labels.sort { $0.0 < $1.0 }
    return labels
  }
}
