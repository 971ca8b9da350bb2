import Prometheus
import Synchronization
import WardStorage

/// The node's pools of database connections as an operator sizes them (PostgreSQL's pools;
/// SQLite's readers and writer, the tenant files' summed), sampled at each scrape:
/// `database_pool_connections{database,state}` (in_use, waiting, size), and
/// `database_leases_total{database}` with `database_lease_seconds_total{database}`, whose
/// rates' quotient is how long a statement or transaction holds a connection.
final class DatabaseMetrics: Sendable {
    private let pools: [(name: String, usage: PoolUsage)]
    private let registry: PrometheusCollectorRegistry
    private let last = Mutex<[String: PoolUsage.Sample]>([:])

    init(storage: Storage, registry: PrometheusCollectorRegistry) {
        pools = storage.poolUsages
        self.registry = registry
    }

    static var connections: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "database_pool_connections", unitName: "", helpText: "Connections of the node's pool by state (in_use, waiting callers, size)")
    }
    static var leases: MetricNameDescriptor { MetricNameDescriptor(metricName: "database_leases", unitName: "total", helpText: "Connections leased and given back") }
    static var held: MetricNameDescriptor { MetricNameDescriptor(metricName: "database_lease_seconds", unitName: "total", helpText: "Time connections were held, in all") }

    func refresh() {
        for (name, usage) in pools {
            let sample = usage.sample
            for (state, value) in [("in_use", sample.inUse), ("waiting", sample.waiting), ("size", sample.size)] {
                registry.makeGauge(descriptor: Self.connections, labels: [("database", name), ("state", state)]).set(Double(value))
            }
            // Counters move by what was added since the last scrape.
            let previous = last.withLock { last in defer { last[name] = sample }; return last[name] ?? PoolUsage.Sample() }
            registry.makeCounter(descriptor: Self.leases, labels: [("database", name)]).increment(by: Int64(max(0, sample.leases - previous.leases)))
            registry.makeCounter(descriptor: Self.held, labels: [("database", name)]).increment(by: max(0, sample.heldSeconds - previous.heldSeconds))
        }
    }
}
