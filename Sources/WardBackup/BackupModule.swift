import Foundation
import Synchronization
import Logging
package import Prometheus
package import ServiceLifecycle
import WardCore
import WardDocuments
package import WardJobs
package import WardKit

/// Backups as a module: the nightly `backup.nightly` job (one per installation, whichever node
/// takes it: every live tenant backed up, the backup verified, then, with an `s3://`
/// destination, uploaded with any earlier one that could not be; backups past the retention
/// pruned on both sides) and the metrics an alert on a missing backup needs.
package struct BackupModule: WardModule {
    package static let name = "backup"
    package static let nightlyKind = "backup.nightly"

    let backups: Backups
    let metrics: BackupMetrics
    let node: ModuleNode

    package init(node: ModuleNode) throws {
        self.node = node
        backups = try Backups(storage: node.storage, audit: node.audit, documents: try node.require(PatientDocuments.self, by: Self.name),
                              settings: node.settings, wardVersion: WardBuild.version, logger: Logger(label: "ward.backup"))
        metrics = BackupMetrics(registry: node.metrics.registry)
        node.provide(backups)
    }

    package func jobs() -> [JobHandler] {
        let backups = self.backups, metrics = self.metrics
        return [
            JobHandler(kind: Self.nightlyKind, policy: RetryPolicy(node.settings.jobs)) { _ in
                do {
                    // Verified on the node's disk before it is uploaded: the bucket gets only a
                    // backup known good, and checks each upload's bytes against its signed hash.
                    let manifest = try await backups.createLocally()
                    let failed = try await backups.verify(manifest.id).filter { $0.problem != nil }
                    guard failed.isEmpty else {
                        throw BackupError.damaged("backup \(manifest.id) failed its verification: \(failed.map { "\($0.slug): \($0.problem ?? "")" }.joined(separator: "; "))")
                    }
                    // A failed upload fails the job (it is retried) and leaves the node's copy,
                    // which the retry uploads beside its own.
                    try await backups.uploadPending()
                    try await backups.prune(olderThan: backups.retentionDays)
                    metrics.run(ok: true)
                } catch {
                    metrics.run(ok: false)
                    throw error
                }
            },
        ]
    }

    package func schedules() throws -> [Schedule] {
        let attempts = node.settings.jobs.maxAttempts
        return [
            try Schedule(name: Self.nightlyKind, cron: "15 2 * * *", scope: .installation(.gmt)) { _, _ in
                try JobQueue.Request(kind: Self.nightlyKind, payload: NoPayload(), maxAttempts: attempts)
            },
        ]
    }

    /// With an `s3://` destination, every node looks at the bucket now and then (`BucketWatch`).
    package func services() -> [any Service] {
        backups.bucket == nil ? [] : [BucketWatch(module: self)]
    }

    /// The newest backup's time and size (with an `s3://` destination, the newest uploaded:
    /// by this node, as the record beside it says, or by any, as the bucket last said). A
    /// scrape lists the directory's manifests only when it changed since the last (a backup
    /// made, uploaded or pruned changes its time), and never waits on the bucket.
    package func refreshMetrics() async {
        let changed = (try? FileManager.default.attributesOfItem(atPath: backups.directory.path))?[.modificationDate] as? Date
        if metrics.listedAt.withLock({ listed in defer { listed = changed }; return changed == nil || listed != changed }) {
            metrics.local.withLock { $0 = backups.newestAtDestination() }
        }
        metrics.report()
    }

    /// Reads the bucket's newest backup for `/metrics`; a failure keeps what was last read
    /// (the age it reports then grows, and the staleness alert fires in its time).
    package func lookAtBucket() async {
        guard let bucket = backups.bucket else { return }
        do {
            let newest = try await bucket.newest()
            metrics.remote.withLock { $0 = newest }
        } catch {
            backups.logger.warning("the bucket's newest backup could not be read", metadata: ["location": "\(bucket.location)", "error": "\(error)"])
        }
    }
}

/// Reads the bucket's newest backup at start and every 15 minutes: only the node that ran the
/// nightly job holds it on its own disk, and every node reports the newest backup, so an
/// alert on a node without one means what it says.
struct BucketWatch: Service {
    let module: BackupModule
    static let interval: Duration = .seconds(900)

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            await module.lookAtBucket()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: Self.interval) }
        }
    }
}

/// `backup_runs_total{outcome}`, `backup_last_success_timestamp_seconds` and `backup_last_bytes`
/// (of the newest finished backup at the destination, uploaded when that is a bucket; absent
/// until there is one).
final class BackupMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    /// When the destination directory last changed, as the last listing saw it.
    let listedAt = Mutex<Date?>(nil)
    /// The newest backup the directory shows (uploaded, with a bucket), as last listed.
    let local = Mutex<BackupManifest?>(nil)
    /// The newest backup in the bucket, as `BucketWatch` last read it.
    let remote = Mutex<BackupManifest?>(nil)

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// Sets the gauges to the newer of the directory's and the bucket's newest backups.
    func report() {
        let candidates = [local.withLock { $0 }, remote.withLock { $0 }].compactMap { $0 }
        newest(candidates.max { $0.createdAt < $1.createdAt })
    }

    func run(ok: Bool) {
        registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "backup_runs", unitName: "total", helpText: "Nightly backups by outcome"),
                             labels: [("outcome", ok ? "ok" : "failed")]).increment()
    }

    func newest(_ manifest: BackupManifest?) {
        guard let manifest, let created = Timestamp.date(manifest.createdAt) else { return }
        registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "backup_last_success_timestamp_seconds", unitName: "",
                                                            helpText: "When the newest finished backup was made (Unix time)"))
            .set(created.timeIntervalSince1970)
        registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "backup_last_bytes", unitName: "", helpText: "Size of the newest finished backup"))
            .set(Double(manifest.files.reduce(0) { $0 + $1.bytes }))
    }
}
