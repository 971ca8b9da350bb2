import Foundation
import Prometheus
import WardCore

/// What an operator watches on the node's disk, sampled at each scrape: the free space under
/// the data directory and, on embedded SQLite, the database files and their write-ahead logs.
struct DiskMetrics: Sendable {
    let dataDirectory: String
    private let free: Gauge
    /// The SQLite files' gauges; nil on PostgreSQL.
    private let sqlite: (files: Gauge, logs: Gauge)?

    init(settings: WardSettings, registry: PrometheusCollectorRegistry) {
        dataDirectory = settings.dataDirectory
        free = registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "data_directory_free", unitName: "bytes",
                                                                   helpText: "Free space on the file system of the data directory"))
        sqlite = settings.usesPostgres ? nil : (
            registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "sqlite_database", unitName: "bytes",
                                                                helpText: "Size of the SQLite database files (control plane and tenants)")),
            registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "sqlite_wal", unitName: "bytes",
                                                                helpText: "Size of the SQLite write-ahead logs not yet checkpointed"))
        )
    }

    /// Reads the sizes (a directory listing and a stat per file; no database is touched).
    func refresh() {
        let manager = FileManager.default
        if let attributes = try? manager.attributesOfFileSystem(forPath: dataDirectory), let bytes = attributes[.systemFreeSize] as? NSNumber {
            free.set(bytes.doubleValue)
        }
        guard let sqlite else { return }
        var database = 0.0, wal = 0.0
        let tenants = (dataDirectory as NSString).appendingPathComponent("tenants")
        let names = ((try? manager.contentsOfDirectory(atPath: tenants)) ?? []).map { (tenants as NSString).appendingPathComponent($0) }
        for path in names + [(dataDirectory as NSString).appendingPathComponent("platform.sqlite"),
                             (dataDirectory as NSString).appendingPathComponent("platform.sqlite-wal")] {
            guard let size = (try? manager.attributesOfItem(atPath: path))?[.size] as? NSNumber else { continue }
            if path.hasSuffix(".sqlite-wal") { wal += size.doubleValue } else if path.hasSuffix(".sqlite") { database += size.doubleValue }
        }
        sqlite.files.set(database)
        sqlite.logs.set(wal)
    }
}
