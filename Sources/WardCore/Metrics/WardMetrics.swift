import Foundation
package import Prometheus
import Synchronization

/// The metrics a Ward node exports, declared in one place. Each node owns one registry, passed
/// in rather than bootstrapped globally, so tests get registries of their own.
package final class WardMetrics: Sendable {
    /// The registry `/metrics` emits.
    package let registry: PrometheusCollectorRegistry
    private let startedAt = Date()
    private let processCollector: ProcessMetrics

    /// Latency buckets from 1 ms to 10 s: a point read sits at the bottom, a report at the top.
    static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2_500), .seconds(5), .seconds(10),
    ]

    package init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.processCollector = ProcessMetrics(registry: registry)
    }

    /// Counts and times one HTTP request, keyed by the route template, never the raw path, so
    /// the number of series stays bounded whatever clients send.
    package func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        let (counter, histogram) = requestSeries.value(for: RequestSeries(method: method, route: route, status: status)) {
            (
                registry.makeCounter(
                    descriptor: Self.requestsTotal,
                    labels: [("method", method), ("route", route), ("status", String(status))]
                ),
                registry.makeDurationHistogram(
                    descriptor: Self.requestDuration, labels: [("method", method), ("route", route)],
                    buckets: Self.latencyBuckets
                )
            )
        }
        counter.increment()
        histogram.record(duration)
    }

    private struct RequestSeries: Hashable, Sendable {
        let method: String
        let route: String
        let status: Int
    }

    private let requestSeries = MetricCache<RequestSeries, (Counter, DurationHistogram)>()

    /// The exposition text, with process metrics refreshed first.
    package func exposition() -> [UInt8] {
        processCollector.refresh(startedAt: startedAt)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16_384)
        registry.emit(into: &buffer)
        return buffer
    }

    static var requestsTotal: MetricNameDescriptor { MetricNameDescriptor(
        metricName: "http_requests", unitName: "total", helpText: "HTTP requests answered, by method, route template and status") }
    static var requestDuration: MetricNameDescriptor { MetricNameDescriptor(
        metricName: "http_request_duration", unitName: "seconds", helpText: "HTTP request latency by method and route template") }
}

/// Process metrics in the names Prometheus' own client libraries use, read from `/proc`.
final class ProcessMetrics: Sendable {
    private let residentMemory: Gauge
    private let virtualMemory: Gauge
    private let cpuSeconds: Gauge
    private let openFileDescriptors: Gauge
    private let maxFileDescriptors: Gauge
    private let threads: Gauge
    private let startTime: Gauge
    private let uptime: Gauge

    init(registry: PrometheusCollectorRegistry) {
        func gauge(_ name: String, _ unit: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: unit, helpText: help))
        }
        residentMemory = gauge("process_resident_memory", "bytes", "Resident memory size in bytes")
        virtualMemory = gauge("process_virtual_memory", "bytes", "Virtual memory size in bytes")
        cpuSeconds = gauge("process_cpu_seconds", "total", "User and system CPU time in seconds")
        openFileDescriptors = gauge("process_open", "fds", "Open file descriptors")
        maxFileDescriptors = gauge("process_max", "fds", "Maximum open file descriptors")
        threads = gauge("process", "threads", "Operating system threads in the process")
        startTime = gauge("process_start_time", "seconds", "Start time of the process since the Unix epoch")
        uptime = gauge("ward_uptime", "seconds", "Seconds since this node started")
    }

    func refresh(startedAt: Date) {
        startTime.set(startedAt.timeIntervalSince1970)
        uptime.set(Date().timeIntervalSince(startedAt))
        #if os(Linux)
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
           let end = stat.lastIndex(of: ")") {
            // Fields after the command name; field 3 (state) is index 0 here.
            let fields = stat[stat.index(after: end)...].split(separator: " ")
            if fields.count > 22 {
                let user = Double(fields[11]) ?? 0
                let system = Double(fields[12]) ?? 0
                cpuSeconds.set((user + system) / ticks)
                threads.set(Double(fields[17]) ?? 0)
                virtualMemory.set(Double(fields[20]) ?? 0)
                residentMemory.set((Double(fields[21]) ?? 0) * pageSize)
            }
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            openFileDescriptors.set(Double(descriptors.count))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            maxFileDescriptors.set(Double(limit.rlim_cur))
        }
        #endif
    }
}
