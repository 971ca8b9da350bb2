package import Prometheus
package import WardStorage

/// The provisioning service's metrics under the names the seeds' dashboards use.
package final class ProvisioningMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let queueDepth: Gauge
    private let activeTenants: Gauge
    private let failedProvisionings: Gauge

    static let stepBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
    static var jobsTotal: MetricNameDescriptor { MetricNameDescriptor(metricName: "provisioning_jobs", unitName: "total", helpText: "Provisioning runs by outcome") }
    static var stepDuration: MetricNameDescriptor { MetricNameDescriptor(metricName: "provisioning_duration", unitName: "seconds", helpText: "Time each provisioning step took") }

    package init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        queueDepth = registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "provisioning_queue_depth", unitName: "", helpText: "Provisioning jobs waiting to run"))
        activeTenants = registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "active_tenants", unitName: "", helpText: "Tenants in state active"))
        failedProvisionings = registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "failed_provisionings", unitName: "", helpText: "Tenants whose provisioning failed for good"))
    }

    func recordStep(_ step: ProvisioningStep, seconds: Double) {
        registry.makeValueHistogram(descriptor: Self.stepDuration, labels: [("step", step.rawValue)], buckets: Self.stepBuckets).record(seconds)
    }

    /// Counts a provisioning run: `succeeded`, `retrying` or `failed`.
    func recordRun(_ status: String) {
        registry.makeCounter(descriptor: Self.jobsTotal, labels: [("status", status)]).increment()
    }

    /// Sets the gauges from the control plane.
    package func refresh(tenants: TenantDirectory, waitingProvisioningJobs: Int) async {
        queueDepth.set(Double(waitingProvisioningJobs))
        guard let counts = try? await tenants.counts() else { return }
        activeTenants.set(Double(counts[.active] ?? 0))
        failedProvisionings.set(Double(counts[.failed] ?? 0))
    }
}
