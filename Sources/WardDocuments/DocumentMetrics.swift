package import Prometheus

/// `document_bytes_total{direction}` (in: uploaded plaintext, out: downloaded) and
/// `object_store_operations_total{store,operation,outcome}`.
package final class DocumentMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    let store: String

    static var bytes: MetricNameDescriptor { MetricNameDescriptor(metricName: "document_bytes", unitName: "total", helpText: "Document bytes uploaded (in) and downloaded (out)") }
    static var operations: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "object_store_operations", unitName: "total", helpText: "Object store operations by store, operation and outcome")
    }

    package init(registry: PrometheusCollectorRegistry, store: String) {
        self.registry = registry
        self.store = store
    }

    func bytes(_ direction: String, _ count: Int) {
        registry.makeCounter(descriptor: Self.bytes, labels: [("direction", direction)]).increment(by: Int64(count))
    }

    func operation(_ name: String, ok: Bool) {
        registry.makeCounter(descriptor: Self.operations, labels: [("store", store), ("operation", name), ("outcome", ok ? "ok" : "error")]).increment()
    }

    /// Runs `work`, counting it as `name` with its outcome.
    func counting<Result>(_ name: String, _ work: () async throws -> Result) async throws -> Result {
        do {
            let result = try await work()
            operation(name, ok: true)
            return result
        } catch {
            operation(name, ok: false)
            throw error
        }
    }
}
