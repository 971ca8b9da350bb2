import Foundation
import Logging
import WardAudit
import WardClinical
import WardCore
import WardIdentity
package import WardJobs
import WardPlatform
import WardStorage

/// The background work a node does: every job kind with its handler, the cron schedules that
/// produce jobs, and the worker and scheduler services that run them.
package enum NodeJobs {
    package static let dailyReportKind = "report.daily"
    package static let sessionCleanupKind = "sessions.cleanup"
    package static let auditRetentionKind = "audit.retention"
    package static let auditWitnessKind = "audit.witness"

    /// How long finished jobs stay inspectable before housekeeping removes them.
    static let finishedJobRetention: Duration = .seconds(30 * 86_400)

    struct DailyReportOrder: Codable { let day: String }
    struct Nothing: Codable {}

    /// Every job kind this build runs.
    package static func handlers(_ services: WardServices) -> [JobHandler] {
        let storage = services.storage, identity = services.identity, queue = services.queue
        let policy = RetryPolicy(services.settings.jobs)
        let retentionDays = services.settings.auditRetentionDays
        let retention = AuditRetention(trail: services.audit)
        let witness = AuditWitness(storage: storage)
        return [
            services.lifecycle.provisioningHandler(),
            services.lifecycle.purgeHandler(),
            JobHandler(kind: dailyReportKind, policy: policy) { run in
                guard let slug = run.job.tenant, let tenant = try await storage.tenants.fetch(slug: slug),
                      [.active, .suspended].contains(tenant.status) else { return }
                let order = try run.job.decodePayload(as: DailyReportOrder.self)
                try await DailyReport.generate(day: order.day, in: try await storage.tenants.scope(for: tenant))
            },
            JobHandler(kind: sessionCleanupKind, policy: policy) { _ in
                for tenant in try await liveTenants(storage) {
                    try await identity.removeEndedSessions(in: try await storage.tenants.scope(for: tenant))
                }
                try await queue.purgeFinished(olderThan: finishedJobRetention)
            },
            JobHandler(kind: auditRetentionKind, policy: policy) { _ in
                let cutoff = Date().addingTimeInterval(-Double(retentionDays) * 86_400)
                for tenant in try await liveTenants(storage) {
                    let scope = try await storage.tenants.scope(for: tenant)
                    // The head is witnessed first: retention keeps the newest event, so the
                    // witnessed event is never among those it removes.
                    try await witness.recordNewest(in: scope)
                    try await retention.apply(in: scope, before: cutoff)
                }
            },
            JobHandler(kind: auditWitnessKind, policy: policy) { _ in
                for tenant in try await liveTenants(storage) {
                    try await witness.recordIfWritten(tenant, in: storage.tenants)
                }
            },
        ]
    }

    /// Tenants whose database is in use (active or suspended).
    static func liveTenants(_ storage: Storage) async throws -> [Tenant] {
        try await storage.tenants.list().filter { [.active, .suspended].contains($0.status) }
    }

    /// The built-in schedules: each tenant's daily report at its local midnight, session
    /// cleanup hourly, audit retention nightly, each trail's head witnessed every five minutes.
    package static func schedules(_ services: WardServices) throws -> [Schedule] {
        let attempts = services.settings.jobs.maxAttempts
        return [
            try Schedule(name: dailyReportKind, cron: "0 0 * * *", scope: .eachTenant) { firedAt, tenant in
                let zone = tenant.flatMap { TimeZone(identifier: $0.timeZone) } ?? .gmt
                return try JobQueue.Request(kind: dailyReportKind, payload: DailyReportOrder(day: DailyReport.day(endingAt: firedAt, in: zone)),
                                            tenant: tenant?.slug, maxAttempts: attempts)
            },
            try Schedule(name: sessionCleanupKind, cron: "17 * * * *", scope: .installation(.gmt), catchUp: .seconds(3600)) { _, _ in
                try JobQueue.Request(kind: sessionCleanupKind, payload: Nothing(), maxAttempts: attempts)
            },
            try Schedule(name: auditRetentionKind, cron: "30 3 * * *", scope: .installation(.gmt)) { _, _ in
                try JobQueue.Request(kind: auditRetentionKind, payload: Nothing(), maxAttempts: attempts)
            },
            try Schedule(name: auditWitnessKind, cron: "*/5 * * * *", scope: .installation(.gmt)) { _, _ in
                try JobQueue.Request(kind: auditWitnessKind, payload: Nothing(), maxAttempts: attempts)
            },
        ]
    }

    /// A worker running every kind of this build.
    package static func worker(_ services: WardServices, id: String? = nil) -> JobWorker {
        JobWorker(queue: services.queue, handlers: handlers(services), settings: services.settings.jobs, metrics: services.jobMetrics,
                  logger: Logger(label: "ward.jobs"), id: id)
    }

    /// A scheduler firing the built-in schedules.
    package static func scheduler(_ services: WardServices) throws -> Scheduler {
        Scheduler(queue: services.queue, tenants: services.storage.tenants, schedules: try schedules(services),
                  tick: services.settings.jobs.schedulerTick, logger: Logger(label: "ward.scheduler"))
    }

    /// Every job kind this build runs, for gauges that report kinds with nothing waiting too.
    static let kinds = [TenantLifecycle.provisionKind, TenantLifecycle.purgeKind, dailyReportKind, sessionCleanupKind, auditRetentionKind, auditWitnessKind]

    /// Samples the queue and tenant gauges for `/metrics`: one depth query serves both.
    package static func refreshMetrics(_ services: WardServices) async {
        guard let depth = try? await services.queue.depth() else { return }
        services.jobMetrics.refresh(depth: depth, kinds: kinds)
        let waiting = depth.first { $0.kind == TenantLifecycle.provisionKind }?.waiting ?? 0
        await services.provisioningMetrics.refresh(tenants: services.storage.tenants, waitingProvisioningJobs: waiting)
    }
}
