import Foundation
import Prometheus
import WardCore
package import ServiceLifecycle
package import WardAudit
package import WardHTTP
package import WardJobs
package import WardStorage

/// The audit trail as a module: its tables, the trail's API and break-glass access, and the
/// jobs that keep it (retention, and the witness that records each trail's head in the
/// control plane). The trail itself is the node's (`ModuleNode.audit`): every module writes
/// to it.
package struct AuditModule: WardModule {
    package static let name = "audit"
    package static let auditRead = "audit:read"
    package static let breakGlass = "patients:break_glass"
    package static let retentionKind = "audit.retention"
    package static let witnessKind = "audit.witness"

    package static var tenantMigrations: [Migration] { AuditMigrations.all }
    package static var platformMigrations: [Migration] { AuditMigrations.platform }
    package static let permissions = [
        PermissionDefinition(breakGlass, "open a patient's record in an emergency, with a reason (audited, reviewed)"),
        PermissionDefinition(auditRead, "read the audit trail"),
    ]
    package static let roleGrants: [BuiltInRole: Set<String>] = [
        .doctor: [breakGlass], .nurse: [breakGlass], .auditor: [auditRead],
    ]
    package static var operations: [APIOperation] { AuditController.operations }

    let node: ModuleNode

    package init(node: ModuleNode) {
        self.node = node
    }

    package func routes(_ routes: inout ModuleRoutes) {
        let controller = AuditController(trail: node.audit, breakGlass: BreakGlass(trail: node.audit, duration: node.settings.breakGlassDuration, clock: node.clock))
        controller.routes(&routes)
        controller.breakGlassRoutes(&routes)
    }

    package func jobs() -> [JobHandler] {
        let node = self.node, policy = RetryPolicy(node.settings.jobs)
        let retentionDays = node.settings.auditRetentionDays
        let retention = AuditRetention(trail: node.audit), witness = AuditWitness(storage: node.storage)
        return [
            JobHandler(kind: Self.retentionKind, policy: policy) { _ in
                let cutoff = Date().addingTimeInterval(-Double(retentionDays) * 86_400)
                for tenant in try await node.liveTenants() {
                    // Removing events is the schema owner's: the serving role only appends.
                    let scope = try await node.storage.tenants.maintenanceScope(for: tenant)
                    // The head is witnessed first: retention keeps the newest event, so the
                    // witnessed event is never among those it removes.
                    try await witness.recordNewest(in: scope)
                    try await retention.apply(in: scope, before: cutoff)
                }
            },
            JobHandler(kind: Self.witnessKind, policy: policy) { _ in
                for tenant in try await node.liveTenants() {
                    try await witness.recordIfWritten(tenant, in: node.storage.tenants)
                }
            },
        ]
    }

    /// Retention nightly; each trail's head witnessed every five minutes.
    package func schedules() throws -> [Schedule] {
        let attempts = node.settings.jobs.maxAttempts
        return [
            try Schedule(name: Self.retentionKind, cron: "30 3 * * *", scope: .installation(.gmt)) { _, _ in
                try JobQueue.Request(kind: Self.retentionKind, payload: NoPayload(), maxAttempts: attempts)
            },
            try Schedule(name: Self.witnessKind, cron: "*/5 * * * *", scope: .installation(.gmt)) { _, _ in
                try JobQueue.Request(kind: Self.witnessKind, payload: NoPayload(), maxAttempts: attempts)
            },
        ]
    }

    /// `audit_journal_backlog` (audited reads journaled, not yet in their trails) and
    /// `audit_journal_lag_seconds` (how long ago the oldest of them happened; 0 when none).
    package func refreshMetrics() async {
        guard let (events, oldest) = try? await node.audit.journalBacklog() else { return }
        let registry = node.metrics.registry
        registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "audit_journal_backlog", unitName: "",
                                                            helpText: "Audited events journaled and not yet moved into their tenants' trails")).set(Double(events))
        let lag = oldest.flatMap(Timestamp.date).map { max(0, node.clock.now.timeIntervalSince($0)) } ?? 0
        registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "audit_journal_lag", unitName: "seconds",
                                                            helpText: "Age of the oldest journaled event not yet in its trail")).set(lag)
    }

    /// The journal's mover.
    package func services() -> [any Service] {
        [AuditJournalMover(trail: node.audit, tenants: node.storage.tenants, interval: node.settings.auditMoveInterval)]
    }
}

/// Moves the audit journal's events into their tenants' trails (`AuditTrail.moveJournal`):
/// everything at start (what a crash left), then every `interval` what this node journaled,
/// every `sweep` what other nodes left (on PostgreSQL, batches older than
/// `AuditJournal.sweepAge`: a live node moves its own), and at graceful shutdown what remains of
/// this node's.
package struct AuditJournalMover: Service {
    let trail: AuditTrail
    let tenants: TenantDirectory
    let interval: Duration
    let sweep: Duration

    package init(trail: AuditTrail, tenants: TenantDirectory, interval: Duration = .seconds(1), sweep: Duration = .seconds(60)) {
        self.trail = trail
        self.tenants = tenants
        self.interval = interval
        self.sweep = sweep
    }

    package func run() async throws {
        await trail.moveJournal(everything: true, tenants: tenants)
        var swept = ContinuousClock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            let everything = ContinuousClock.now - swept >= sweep
            if everything { swept = .now }
            await trail.moveJournal(everything: everything, leftoversOnly: true, tenants: tenants)
        }
        // What was journaled while the last round ran.
        await trail.moveJournal(everything: false, tenants: tenants)
    }
}
