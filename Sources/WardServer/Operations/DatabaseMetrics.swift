import Prometheus
import Synchronization
import WardStorage

/// The node's pools of database connections as an operator sizes them (PostgreSQL's pools;
/// SQLite's readers and writer, the tenant files' summed), sampled at each scrape:
/// `database_pool_connections{database,state}` (in_use, waiting, size), and
/// `database_leases_total{database}` with `database_lease_seconds_total{database}`, whose
/// rates' quotient is how long a statement or transaction holds a connection.
final class DatabaseMetrics: Sendable {
    private let storage: Storage
    private let replicas: ReplicaSet?
    private let lastReads = Mutex<[String: Int]>([:])
    private let registry: PrometheusCollectorRegistry
    private let last = Mutex<[String: PoolUsage.Sample]>([:])

    init(storage: Storage, registry: PrometheusCollectorRegistry) {
        self.storage = storage
        replicas = storage.replicas
        self.registry = registry
    }

    static var connections: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "database_pool_connections", unitName: "", helpText: "Connections of the node's pool by state (in_use, waiting callers, size)")
    }
    static var leases: MetricNameDescriptor { MetricNameDescriptor(metricName: "database_leases", unitName: "total", helpText: "Connections leased and given back") }
    static var held: MetricNameDescriptor { MetricNameDescriptor(metricName: "database_lease_seconds", unitName: "total", helpText: "Time connections were held, in all") }

    static var replicaUp: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "database_replica_serving", unitName: "", helpText: "1 while the read replica serves reads (answers, is a standby, lags within the bound), else 0")
    }
    static var replicaLag: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "database_replica_lag", unitName: "seconds", helpText: "How long ago the primary had written what the replica has not replayed (resolution: the one-second poll)")
    }
    static var replicaLagBytes: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "database_replica_lag", unitName: "bytes", helpText: "Write-ahead log the replica has not replayed yet")
    }
    static var reads: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "database_reads", unitName: "total", helpText: "Tenant reads of requests by where they went: the primary or a replica")
    }

    func refresh() {
        refreshReplicas()
        // Read at each scrape: a shard's pools join once the node has opened them.
        for (name, usage) in storage.poolUsages {
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

    private func refreshReplicas() {
        guard let replicas else { return }
        for status in replicas.statuses {
            let labels = [("replica", status.name)]
            registry.makeGauge(descriptor: Self.replicaUp, labels: labels).set(Double(status.serving ? 1 : 0))
            // A replica that does not answer has no lag to report: the gauge keeps its last
            // value, and `database_replica_serving` says it is out.
            if let lag = status.lagSeconds { registry.makeGauge(descriptor: Self.replicaLag, labels: labels).set(lag) }
            if let bytes = status.lagBytes { registry.makeGauge(descriptor: Self.replicaLagBytes, labels: labels).set(Double(bytes)) }
        }
        for (target, count) in replicas.reads {
            let previous = lastReads.withLock { last in defer { last[target] = count }; return last[target] ?? 0 }
            registry.makeCounter(descriptor: Self.reads, labels: [("target", target)]).increment(by: Int64(max(0, count - previous)))
        }
    }
}
