package import Foundation
import Synchronization
package import Logging
import ServiceLifecycle
import WardCore
package import WardStorage

/// A cron schedule that turns each firing into a job: once for the installation, or once per
/// active tenant with the cron read in the tenant's own time zone.
package struct Schedule: Sendable {
    package enum Scope: Sendable {
        /// One firing for the whole installation, the cron read in this zone.
        case installation(TimeZone)
        /// One firing per active tenant, at its local time.
        case eachTenant
    }

    package let name: String
    package let cron: CronExpression
    package let scope: Scope
    /// How far back a firing missed while no scheduler ran is still made up (the latest one
    /// only), so a restart just after midnight still produces the night's jobs.
    package let catchUp: Duration
    /// For `eachTenant`, the ids of the only tenants that get a firing, asked at each tick (nil:
    /// every active tenant): a module's work that concerns few clinics is not queued for every
    /// one.
    package let only: (@Sendable () async throws -> Set<String>?)?
    /// The job for a firing: the firing time and, for `eachTenant`, the tenant.
    package let job: @Sendable (_ firedAt: Date, _ tenant: Tenant?) throws -> JobQueue.Request

    package init(name: String, cron: String, scope: Scope, catchUp: Duration = .seconds(26 * 3600),
                 only: (@Sendable () async throws -> Set<String>?)? = nil,
                 job: @escaping @Sendable (_ firedAt: Date, _ tenant: Tenant?) throws -> JobQueue.Request) throws {
        self.name = name
        self.cron = try CronExpression(cron)
        self.scope = scope
        self.catchUp = catchUp
        self.only = only
        self.job = job
    }
}

/// Fires cron schedules into the job queue. Any number of nodes may run a scheduler: each
/// firing is enqueued with a unique key made of the schedule, the tenant and the firing time,
/// so only the first node to get there enqueues it.
package final class Scheduler: Service, Sendable {
    private let queue: JobQueue
    private let tenants: TenantDirectory
    private let schedules: [Schedule]
    private let tick: Duration
    private let logger: Logger
    /// Firings this node has already seen enqueued: later ticks skip them instead of writing
    /// again for each tenant. The unique key stays what guarantees a single firing.
    private let seen = Mutex<Set<String>>([])
    /// When the installation began, once read: it gets no firing from before it existed (a
    /// node first started at noon does not make up the night's backup of nothing).
    private let installed = Mutex<Date?>(nil)

    package init(queue: JobQueue, tenants: TenantDirectory, schedules: [Schedule], tick: Duration, logger: Logger) {
        self.queue = queue
        self.tenants = tenants
        self.schedules = schedules
        self.tick = tick
        self.logger = logger
    }

    package func run() async throws {
        logger.info("scheduler started", metadata: ["schedules": "\(schedules.map(\.name))"])
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await fire(at: queue.clock.now)
            } catch {
                logger.error("scheduler tick failed", metadata: ["error": "\(error)"])
            }
            // Ends at once on graceful shutdown: an idle node stops without waiting out a tick.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.tick) }
        }
        logger.info("scheduler stopped")
    }

    /// Enqueues every firing due at `now` that no scheduler has enqueued yet; returns the jobs
    /// this call enqueued.
    @discardableResult
    package func fire(at now: Date) async throws -> [Job] {
        var enqueued: [Job] = []
        var activeTenants: [Tenant]?
        let installedAt = try await installation()
        for schedule in schedules {
            let since = now.addingTimeInterval(-schedule.catchUp.timeInterval)
            switch schedule.scope {
            case .installation(let zone):
                guard let firing = schedule.cron.latest(since: since, until: now, in: zone), firing >= installedAt ?? firing else { continue }
                if let job = try await enqueue(schedule, at: firing, tenant: nil) { enqueued.append(job) }
            case .eachTenant:
                if activeTenants == nil { activeTenants = try await tenants.page(after: nil, limit: nil, status: .active) }
                let only = try await schedule.only?()
                var firingByZone: [String: Date?] = [:]
                for tenant in activeTenants ?? [] where only?.contains(tenant.id) ?? true {
                    if firingByZone[tenant.timeZone] == nil {
                        let zone = TimeZone(identifier: tenant.timeZone) ?? .gmt
                        firingByZone[tenant.timeZone] = .some(schedule.cron.latest(since: since, until: now, in: zone))
                    }
                    // A tenant gets no firing from before it existed.
                    guard let firing = firingByZone[tenant.timeZone] ?? nil,
                          let created = Timestamp.date(tenant.createdAt), firing >= created else { continue }
                    if let job = try await enqueue(schedule, at: firing, tenant: tenant) { enqueued.append(job) }
                }
            }
        }
        return enqueued
    }

    private func installation() async throws -> Date? {
        if let known = installed.withLock({ $0 }) { return known }
        let read = try await tenants.installedAt()
        installed.withLock { $0 = read }
        return read
    }

    private func enqueue(_ schedule: Schedule, at firing: Date, tenant: Tenant?) async throws -> Job? {
        let key = "\(schedule.name)|\(tenant?.slug ?? "-")|\(Timestamp.text(firing))"
        if seen.withLock({ $0.contains(key) }) { return nil }
        var request = try schedule.job(firing, tenant)
        request.uniqueKey = key
        let job = try await queue.enqueue(request)
        seen.withLock { seen in
            // Old firings are never asked for again once the catch-up window has passed them.
            if seen.count > 100_000 { seen.removeAll() }
            seen.insert(key)
        }
        if let job {
            logger.info("schedule fired", metadata: ["schedule": "\(schedule.name)", "job_id": "\(job.id)", "tenant_id": "\(tenant?.slug ?? "-")"])
        }
        return job
    }
}
