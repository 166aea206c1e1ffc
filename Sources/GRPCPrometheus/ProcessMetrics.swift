import NIOConcurrencyHelpers
import Prometheus

/// The `process_*` families of Go's process collector, read from procfs and `getrlimit` on
/// Linux, with Go's names and HELP texts so existing dashboards keep working.
///
/// Values are read when ``update()`` runs; ``MetricsExposition`` calls it right before each
/// scrape, as Go's collector reads at collection time. Where procfs is missing (macOS) the
/// procfs-based values stay at 0.
public final class ProcessMetrics: Sendable {
  private let cpuSeconds: Counter
  private let openFileDescriptors: Gauge
  private let maxFileDescriptors: Gauge
  private let virtualMemoryBytes: Gauge
  private let virtualMemoryMaxBytes: Gauge
  private let residentMemoryBytes: Gauge
  private let startTimeSeconds: Gauge
  /// The CPU time already added to the counter, which can only grow by increments.
  private let reportedCPUSeconds = NIOLockedValueBox<Double>(0)
  /// When the machine booted (seconds since the epoch), read once: it does not change, and
  /// parsing `/proc/stat` on every scrape cost more than the rest of the sample.
  private let bootTime = ProcessMetrics.readBootTime()

  /// Registers the families in `registry` and reads the first values.
  public init(registry: PrometheusCollectorRegistry) {
    func gauge(_ name: String, _ help: String) -> Gauge {
      registry.makeGauge(
        descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help),
        labels: []
      )
    }
    self.cpuSeconds = registry.makeCounter(
      descriptor: MetricNameDescriptor(
        metricName: "process_cpu_seconds_total",
        unitName: "",
        helpText: "Total user and system CPU time spent in seconds."
      )
    )
    self.openFileDescriptors = gauge("process_open_fds", "Number of open file descriptors.")
    self.maxFileDescriptors = gauge(
      "process_max_fds",
      "Maximum number of open file descriptors."
    )
    self.virtualMemoryBytes = gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.")
    self.virtualMemoryMaxBytes = gauge(
      "process_virtual_memory_max_bytes",
      "Maximum amount of virtual memory available in bytes."
    )
    self.residentMemoryBytes = gauge(
      "process_resident_memory_bytes",
      "Resident memory size in bytes."
    )
    self.startTimeSeconds = gauge(
      "process_start_time_seconds",
      "Start time of the process since unix epoch in seconds."
    )
    self.update()
  }

  /// Reads the current values; call it right before rendering a scrape.
  public func update() {
    if let bootTime = self.bootTime, let sample = Self.readSample(bootTime: bootTime) {
      self.virtualMemoryBytes.set(to: sample.virtualMemoryBytes)
      self.residentMemoryBytes.set(to: sample.residentMemoryBytes)
      self.startTimeSeconds.set(to: sample.startTimeSeconds)
      self.reportedCPUSeconds.withLockedValue { reported in
        if sample.cpuSeconds > reported {
          self.cpuSeconds.increment(by: sample.cpuSeconds - reported)
          reported = sample.cpuSeconds
        }
      }
    }
    if let open = Self.countOpenFileDescriptors() {
      self.openFileDescriptors.set(to: Double(open))
    }
    self.maxFileDescriptors.set(to: Self.softLimit(of: .openFiles))
    self.virtualMemoryMaxBytes.set(to: Self.softLimit(of: .addressSpace))
  }
}
