import Foundation
import Prometheus
import Testing

@testable import GRPCPrometheus

@Suite struct ProcessMetricsTests {
  @Test func parsesProcSelfStatWithAwkwardCommandName() throws {
    // Field 2 holds spaces and a ")" to prove fields are counted from the last ")".
    let stat =
      "4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 150 0 0 20 0 8 0 "
      + "12345 987654321 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
    let sample = try #require(
      ProcessSample(stat: stat, ticksPerSecond: 100, pageSize: 4096, bootTime: 1_700_000_000)
    )
    #expect(sample.cpuSeconds == 4.0)  // (250 + 150) / 100
    #expect(sample.virtualMemoryBytes == 987_654_321)
    #expect(sample.residentMemoryBytes == 2048 * 4096)
    #expect(sample.startTimeSeconds == 1_700_000_123.45)
    #expect(ProcessSample(stat: "garbage", ticksPerSecond: 100, pageSize: 4096, bootTime: 0) == nil)
  }

  @Test func readsBootTime() {
    let procStat = "cpu  1 2 3\nintr 5\nbtime 1712345678\nprocesses 9\n"
    #expect(ProcessSample.bootTime(procStat: procStat) == 1_712_345_678)
    #expect(ProcessSample.bootTime(procStat: "cpu 1\n") == nil)
  }

  @Test func exposesGoProcessFamiliesWithLiveValues() throws {
    let registry = PrometheusCollectorRegistry()
    let process = ProcessMetrics(registry: registry)
    let scraped = ParsedExposition(
      MetricsExposition(registry: registry, processMetrics: process).render(.prometheusText))

    #expect(
      scraped.types == [
        "process_cpu_seconds_total": "counter", "process_open_fds": "gauge",
        "process_max_fds": "gauge", "process_virtual_memory_bytes": "gauge",
        "process_virtual_memory_max_bytes": "gauge", "process_resident_memory_bytes": "gauge",
        "process_start_time_seconds": "gauge",
      ])
    #expect(
      scraped.helps["process_cpu_seconds_total"]
        == "Total user and system CPU time spent in seconds.")
    #expect(scraped.helps["process_open_fds"] == "Number of open file descriptors.")
    #expect(scraped.helps["process_max_fds"] == "Maximum number of open file descriptors.")
    #expect(scraped.helps["process_virtual_memory_bytes"] == "Virtual memory size in bytes.")
    #expect(
      scraped.helps["process_virtual_memory_max_bytes"]
        == "Maximum amount of virtual memory available in bytes.")
    #expect(scraped.helps["process_resident_memory_bytes"] == "Resident memory size in bytes.")
    #expect(
      scraped.helps["process_start_time_seconds"]
        == "Start time of the process since unix epoch in seconds.")

    let samples = scraped.samples
    let openFDs = try #require(samples["process_open_fds"])
    let maxFDs = try #require(samples["process_max_fds"])
    #expect(openFDs >= 3 && openFDs <= maxFDs)
    #expect(try #require(samples["process_resident_memory_bytes"]) > 1_000_000)
    #expect(
      try #require(samples["process_virtual_memory_bytes"])
        >= samples["process_resident_memory_bytes"]!
    )
    let now = Date().timeIntervalSince1970
    let start = try #require(samples["process_start_time_seconds"])
    #expect(start <= now + 1 && start > now - 24 * 3600)

    // An unlimited address space reads as Go's 2^64-1, a finite one as itself.
    var limit = rlimit()
    getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit)
    #expect(samples["process_virtual_memory_max_bytes"] == Double(limit.rlim_cur))

    // CPU time only grows and follows the process's own accounting.
    let before = try #require(samples["process_cpu_seconds_total"])
    var spin = 0.0
    let clock = ContinuousClock()
    let deadline = clock.now + .milliseconds(300)
    while clock.now < deadline { spin += sin(spin) }
    let after = try #require(
      ParsedExposition(
        MetricsExposition(registry: registry, processMetrics: process).render(.prometheusText)
      )
      .samples["process_cpu_seconds_total"]
    )
    #expect(after >= before + 0.1, "spun \(spin)")
  }
}
