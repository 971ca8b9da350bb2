package import Prometheus
import WardCore

/// The queue's metrics: outcomes and durations counted as jobs finish, depth sampled from the
/// queue when `/metrics` is scraped.
package final class JobMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let oldestAge: Gauge

    static let durationBuckets: [Double] = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]
    static var jobsTotal: MetricNameDescriptor { MetricNameDescriptor(metricName: "jobs", unitName: "total", helpText: "Job attempts by kind and outcome") }
    static var jobDuration: MetricNameDescriptor { MetricNameDescriptor(metricName: "job_duration", unitName: "seconds", helpText: "Time a job attempt ran, by kind") }
    static var queueDepth: MetricNameDescriptor { MetricNameDescriptor(metricName: "queue_depth", unitName: "", helpText: "Jobs waiting to run (queued or awaiting a retry), by kind") }

    package init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        self.oldestAge = registry.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "queue_oldest_job_age", unitName: "seconds", helpText: "Seconds the oldest due job has waited to be claimed"))
    }

    /// Counts one finished attempt: `succeeded`, `retried` (failed, will run again), `dead` or
    /// `released` (given back at shutdown).
    package func record(kind: String, status: String, seconds: Double) {
        registry.makeCounter(descriptor: Self.jobsTotal, labels: [("kind", kind), ("status", status)]).increment()
        registry.makeValueHistogram(descriptor: Self.jobDuration, labels: [("kind", kind)], buckets: Self.durationBuckets).record(seconds)
    }

    /// Sets the depth gauges from `JobQueue.depth()`; `kinds` are reported even when none wait.
    package func refresh(depth: [JobQueue.Depth], kinds: [String]) {
        let byKind = Dictionary(depth.map { ($0.kind, $0.waiting) }, uniquingKeysWith: { first, _ in first })
        for kind in Set(kinds).union(byKind.keys) {
            registry.makeGauge(descriptor: Self.queueDepth, labels: [("kind", kind)]).set(Double(byKind[kind] ?? 0))
        }
        oldestAge.set(depth.map(\.oldestDueAge).max() ?? 0)
    }
}
