import Foundation
import GRPCPrometheus
import Prometheus
import Testing

/// Feeds realistic scrapes to parsers this library did not write: Prometheus's own `promtool`
/// and the Python client's text and (strict) OpenMetrics parsers.
@Suite struct ExternalParserTests {
  static let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// A registry as a live echo server and client expose it, traffic included.
  func realisticExposition() -> MetricsExposition {
    let registry = PrometheusCollectorRegistry()
    var configuration = GRPCMetricsConfiguration.defaults
    configuration.constantLabels = ["replica": "echo-1"]
    let server = ServerMetrics(registry: registry, configuration: configuration)
    let client = ClientMetrics(registry: registry, configuration: configuration)
    for type in GRPCType.allCases {
      let method = GRPCMethod(
        service: "proto.EchoService", method: "M_\(type.rawValue)", type: type)
      let serverMethod = server.method(method)
      serverMethod.started(); serverMethod.receivedMessage(); serverMethod.sentMessage()
      serverMethod.handled(.ok, after: .milliseconds(7))
      let clientMethod = client.method(method)
      clientMethod.started(); clientMethod.sentMessage();
      clientMethod.observeSend(.microseconds(40))
      clientMethod.handled(.deadlineExceeded, after: .milliseconds(1000))
    }
    return MetricsExposition(registry: registry, processMetrics: ProcessMetrics(registry: registry))
  }

  @Test func promtoolAcceptsTheTextFormat() throws {
    let body = self.realisticExposition().render(.prometheusText)
    let result = try run(["/usr/bin/promtool", "check", "metrics"], input: body)
    #expect(result.status == 0, "promtool: \(result.output)")
    #expect(result.output.isEmpty, "promtool lint: \(result.output)")
  }

  @Test(arguments: [ExpositionFormat.prometheusText, .openMetrics])
  func pythonPrometheusClientParsesTheSameSamples(format: ExpositionFormat) throws {
    let python =
      ProcessInfo.processInfo.environment["GRPC_PROMETHEUS_PYTHON"]
      ?? Self.packageRoot.appendingPathComponent(".venv/bin/python").path
    try #require(
      FileManager.default.isExecutableFile(atPath: python),
      "No Python at \(python): `make test` creates .venv with prometheus-client (or set GRPC_PROMETHEUS_PYTHON)"
    )
    let parser =
      format == .openMetrics ? "prometheus_client.openmetrics.parser" : "prometheus_client.parser"
    // Prints one `series value` line per sample, labels sorted, `le` as the parser read it.
    let script = """
      import sys, importlib
      parser = importlib.import_module("\(parser)")
      for family in parser.text_string_to_metric_families(sys.stdin.read()):
          for s in family.samples:
              labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(s.labels.items()))
              print("%s%s %r" % (s.name, "{%s}" % labels if labels else "", float(s.value)))
      """
    let body = self.realisticExposition().render(format)
    let result = try run([python, "-c", script], input: body)
    try #require(result.status == 0, "python parser failed: \(result.output)")

    let ours = ParsedExposition(body).samples
    var theirs: [String: Double] = [:]
    for line in result.output.split(separator: "\n") {
      let space = line.lastIndex(of: " ")!
      theirs[String(line[..<space])] = Double(line[line.index(after: space)...])!
    }
    #expect(ours.count > 300)
    // Python sorts `le` in among the labels; Go and this library write it last.
    #expect(sameSeries(sortingLabels(theirs), sortingLabels(ours)) == [])
  }
}

/// The samples with each series' labels sorted by name, `le` included.
private func sortingLabels(_ samples: [String: Double]) -> [String: Double] {
  let label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/
  var sorted: [String: Double] = [:]
  for (key, value) in samples {
    guard let brace = key.firstIndex(of: "{") else {
      sorted[key] = value
      continue
    }
    let labels = key[brace...].matches(of: label).map { "\($0.output.1)=\"\($0.output.2)\"" }
    sorted[String(key[..<brace]) + "{" + labels.sorted().joined(separator: ",") + "}"] = value
  }
  return sorted
}

private func run(_ arguments: [String], input: [UInt8]) throws -> (status: Int32, output: String) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: arguments[0])
  process.arguments = Array(arguments.dropFirst())
  let stdin = Pipe()
  let output = Pipe()
  process.standardInput = stdin
  process.standardOutput = output
  process.standardError = output
  try process.run()
  // A scrape outgrows the pipe buffer, so stdin is fed from another thread while stdout drains.
  let writer = Thread {
    stdin.fileHandleForWriting.write(Data(input))
    try? stdin.fileHandleForWriting.close()
  }
  writer.start()
  let data = output.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
