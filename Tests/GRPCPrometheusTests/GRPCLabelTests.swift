import Testing

@testable import GRPCPrometheus

@Suite struct GRPCLabelTests {
  @Test func codesAreSpelledAsGoSpellsThem() {
    #expect(
      GRPCCode.allCases.map(\.goName) == [
        "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
        "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
        "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
        "Unauthenticated",
      ]
    )
    #expect(GRPCCode.allCases.map(\.rawValue) == Array(0...16))
  }

  @Test func typesAreSpelledAsGoSpellsThem() {
    #expect(
      GRPCType.allCases.map(\.rawValue) == [
        "unary", "client_stream", "server_stream", "bidi_stream",
      ])
    #expect(GRPCType.allCases.map(\.isStreaming) == [false, true, true, true])
  }

  @Test func labelsAreSortedByNameWithConstantLabelsSortedIn() {
    let method = GRPCMethod(service: "proto.EchoService", method: "Echo", type: .unary)
    let labels = method.labels(constant: ["zone": "a", "app": "echo"], code: .notFound)
    #expect(
      labels.map(\.0) == ["app", "grpc_code", "grpc_method", "grpc_service", "grpc_type", "zone"])
    #expect(labels.map(\.1) == ["echo", "NotFound", "Echo", "proto.EchoService", "unary", "a"])
  }

  @Test func namesArePrefixedLikeGoBuildFQName() {
    var configuration = GRPCMetricsConfiguration.defaults
    #expect(
      configuration.fullyQualifiedName("grpc_server_started_total") == "grpc_server_started_total")
    configuration.namespace = "shop"
    #expect(configuration.fullyQualifiedName("x") == "shop_x")
    configuration.subsystem = "echo"
    #expect(configuration.fullyQualifiedName("x") == "shop_echo_x")
    configuration.namespace = ""
    #expect(configuration.fullyQualifiedName("x") == "echo_x")
  }
}
