package import Foundation
package import Logging
import SQLKit
package import WardAudit
package import WardCore
package import WardHTTP
package import WardIdentity
package import WardMail
package import WardJobs
package import WardStorage

/// A tenant's life as the control plane runs it: provisioning requested and carried out by a
/// job, retried after failure, suspended and resumed, deleted and later purged. Changes that
/// touch a tenant with a database are also recorded in that tenant's own audit trail.
package struct TenantLifecycle: Sendable {
    package static let provisionKind = "tenant.provision"
    package static let purgeKind = "tenant.purge"

    package let storage: Storage
    package let queue: JobQueue
    package let provisioner: Provisioner
    package let log: ProvisioningLog
    package let outbox: Outbox
    let audit: AuditTrail
    let policy: RetryPolicy
    let purgeGrace: TimeInterval
    /// What every module removes of a purged tenant outside its database.
    let purgeModules: @Sendable (Tenant) async throws -> Void
    let logger: Logger

    package init(storage: Storage, identity: IdentityService, audit: AuditTrail, queue: JobQueue, outbox: Outbox, settings: WardSettings, metrics: ProvisioningMetrics,
                 seed: @escaping Provisioner.Seed, purgeModules: @escaping @Sendable (Tenant) async throws -> Void = { _ in },
                 faults: ProvisioningFaults? = nil, logger: Logger) {
        self.purgeModules = purgeModules
        let log = ProvisioningLog(storage: storage)
        self.storage = storage
        self.queue = queue
        self.log = log
        self.outbox = outbox
        self.audit = audit
        self.provisioner = Provisioner(storage: storage, identity: identity, audit: audit, seed: seed, outbox: outbox, log: log, metrics: metrics,
                                       baseDomain: settings.baseDomain, faults: faults, logger: logger)
        self.policy = RetryPolicy(settings.jobs)
        self.purgeGrace = TimeInterval(settings.tenantPurgeGraceDays) * 86_400
        self.logger = logger
    }

    /// What a provisioning request asks for.
    package struct Request: Sendable {
        package var slug: String
        package var name: String
        package var timeZone: String
        package var adminEmail: String?
        package var adminName: String?
        /// The shard to place the tenant on; nil leaves it to the placement policy (the shard
        /// with the fewest tenants of those taking new ones).
        package var shard: String?

        package init(slug: String, name: String, timeZone: String = "UTC", adminEmail: String? = nil, adminName: String? = nil, shard: String? = nil) {
            self.slug = slug
            self.name = name
            self.timeZone = timeZone
            self.adminEmail = adminEmail
            self.adminName = adminName
            self.shard = shard
        }
    }

    // MARK: Provisioning

    /// Reserves the slug and queues the provisioning job; the tenant is `pending` until a
    /// worker takes the job.
    package func requestProvisioning(_ request: Request) async throws -> (tenant: Tenant, job: Job) {
        try Self.validate(request)
        try await checkShard(request.shard)
        // The reservation and its job commit together: a crash between them would leave a
        // tenant pending with nothing to provision it.
        let reserved = try await storage.tenants.reserve(slug: request.slug, name: request.name, timeZone: request.timeZone, status: .pending) {
            [self] database, tenant in
            try await enqueue(ProvisioningOrder(tenantID: tenant.id, slug: tenant.slug, adminEmail: request.adminEmail, adminName: request.adminName,
                                                shard: request.shard),
                              tenant: tenant, in: database)
        }
        return (reserved.tenant, reserved.extra)
    }

    /// Provisions in the caller's task, without a job (the demo and benchmark seeds, tests):
    /// the same steps, one attempt, rolled back if it fails.
    @discardableResult
    package func provisionNow(_ request: Request, by actor: AuditActor = .system) async throws -> Tenant {
        try Self.validate(request)
        try await checkShard(request.shard)
        let tenant = try await storage.tenants.reserve(slug: request.slug, name: request.name, timeZone: request.timeZone, status: .pending)
        let order = ProvisioningOrder(tenantID: tenant.id, slug: tenant.slug, adminEmail: request.adminEmail, adminName: request.adminName,
                                      shard: request.shard)
        return try await provisioner.provision(order, attempt: 1, isFinal: true, jobID: nil, by: actor)
    }

    /// Starts provisioning again for a tenant whose provisioning failed.
    package func retry(_ slug: String) async throws -> (tenant: Tenant, job: Job) {
        let previous = try await queue.list(kind: Self.provisionKind, tenant: slug, limit: 1).first
        let earlier = try? previous?.decodePayload(as: ProvisioningOrder.self)
        let retried = try await storage.tenants.update(slug, from: [.failed], action: "retried", status: .pending, lastError: .some(nil)) {
            [self] database, tenant in
            var order = ProvisioningOrder(tenantID: tenant.id, slug: tenant.slug, adminEmail: nil, adminName: nil)
            if let earlier, earlier.tenantID == tenant.id { order = earlier }
            return try await enqueue(order, tenant: tenant, in: database)
        }
        return (retried.tenant, retried.extra)
    }

    /// Queues provisioning inside the caller's control-plane transaction.
    private func enqueue(_ order: ProvisioningOrder, tenant: Tenant, in database: any SQLDatabase) async throws -> Job {
        let request = try JobQueue.Request(kind: Self.provisionKind, payload: order, tenant: tenant.slug, maxAttempts: policy.maxAttempts)
        guard let job = try await queue.enqueue(request, in: database) else { throw JobError.notFound("(not enqueued)") }
        return job
    }

    /// A tenant's name, and its first administrator's: one line of 1 to 200 characters.
    package static let name = TextField.singleLine(max: 200)
    /// The time zones a tenant may keep its calendar in: the IANA names this system knows.
    package static let timeZones: [String] = Array(Set(TimeZone.knownTimeZoneIdentifiers + ["UTC"])).sorted()
    private static let knownTimeZones = Set(timeZones)

    /// Refuses a request whose fields are not of their form (422, one entry per field), and a
    /// slug of the right form that Ward keeps for itself (`www`, `api`, …) as taken (409).
    /// Refuses a named shard the control plane does not record (before anything is reserved).
    private func checkShard(_ shard: String?) async throws {
        guard let shard else { return }
        let known = try await storage.tenants.shards?.records().map(\.name) ?? [ShardSet.primaryName]
        if !known.contains(shard) { throw PlatformError.unknownShard(shard, known: known) }
    }

    static func validate(_ request: Request) throws {
        var errors: [Problem.FieldError] = []
        if let message = ParameterFormat.slug.problem(with: request.slug) { errors.append(.init(field: "slug", message: message)) }
        name.check(request.name, "name", into: &errors)
        if !knownTimeZones.contains(request.timeZone) { errors.append(.init(field: "timezone", message: "must be an IANA time zone name")) }
        if let email = request.adminEmail {
            if !TextRules.isEmail(email) { errors.append(.init(field: "admin_email", message: "must be an email address")) }
        } else if request.adminName != nil {
            errors.append(.init(field: "admin_email", message: "is required with admin_name"))
        }
        name.check(request.adminName, "admin_name", into: &errors)
        if !errors.isEmpty { throw IdentityError.invalidInput(errors) }
        if (try? TenantSlug(request.slug)) == nil { throw PlatformError.reservedSlug(request.slug) }
    }

    /// The job handler that carries out provisioning.
    package func provisioningHandler() -> JobHandler {
        let provisioner = self.provisioner
        return JobHandler(kind: Self.provisionKind, policy: policy, run: { run in
            let order = try run.job.decodePayload(as: ProvisioningOrder.self)
            try await provisioner.provision(order, attempt: run.job.attempts, isFinal: run.job.isFinalAttempt, jobID: run.job.id)
        }, abandoned: { job in
            guard let order = try? job.decodePayload(as: ProvisioningOrder.self) else { return }
            await provisioner.abandon(order, jobID: job.id, error: job.lastError ?? "the worker stopped during the final attempt")
        })
    }

    // MARK: Suspending, resuming, deleting

    /// Suspends an active tenant: its API answers 403; its data stays untouched.
    @discardableResult
    package func suspend(_ slug: String, by actor: AuditActor) async throws -> Tenant {
        let tenant = try await storage.tenants.update(slug, from: [.active], action: "suspended", status: .suspended)
        try await recordInTrail(tenant, "tenant_suspended", by: actor)
        return tenant
    }

    /// Resumes a suspended tenant, or restores a deleted one before its purge.
    @discardableResult
    package func resume(_ slug: String, by actor: AuditActor) async throws -> Tenant {
        // A tenant deleted after its provisioning failed has no database to come back to.
        if let current = try await storage.tenants.fetch(slug: slug), current.status == .deleting, try await !storage.tenants.databaseExists(slug) {
            throw TenantError.wrongState(slug, current.status, "resumed: it has no database")
        }
        let tenant = try await storage.tenants.update(slug, from: [.suspended, .deleting], action: "resumed", status: .active,
                                                      deletedAt: .some(nil), purgeAfter: .some(nil))
        for job in try await queue.list(kind: Self.purgeKind, tenant: slug, limit: 10) where [.queued, .failed].contains(job.state) {
            _ = try? await queue.cancel(job.id)
        }
        try await recordInTrail(tenant, "tenant_resumed", by: actor)
        return tenant
    }

    /// Deletes a tenant softly: it is refused at once and purged by a job after the grace
    /// period, during which `resume` restores it intact.
    @discardableResult
    package func delete(_ slug: String, by actor: AuditActor) async throws -> Tenant {
        let now = Date()
        let purgeAt = now.addingTimeInterval(purgeGrace)
        guard let current = try await storage.tenants.fetch(slug: slug) else { throw TenantError.notFound(slug) }
        // The purge job is queued first: one queued for a delete that then fails finds the tenant
        // not `deleting` and does nothing, while a delete without its purge would stay forever.
        try await queue.enqueue(JobQueue.Request(kind: Self.purgeKind, payload: ProvisioningOrder(tenantID: current.id, slug: slug, adminEmail: nil, adminName: nil),
                                                 tenant: slug, runAt: purgeAt, maxAttempts: policy.maxAttempts))
        let tenant = try await storage.tenants.update(slug, from: [.active, .suspended, .failed], action: "deleted", status: .deleting,
                                                      deletedAt: .some(Timestamp.text(now)), purgeAfter: .some(Timestamp.text(purgeAt)))
        try await recordInTrail(tenant, "tenant_deleted", by: actor, details: ["purge_after": Timestamp.text(purgeAt)])
        return tenant
    }

    /// Removes a deleted tenant's database and, through every module, what it kept elsewhere
    /// (emails, documents and their key) once its grace period is over; does nothing for a
    /// tenant restored meanwhile. A purge that failed part-way runs again with its job's retry:
    /// each removal is idempotent.
    package func purge(_ order: ProvisioningOrder, now: Date = Date()) async throws {
        guard let tenant = try await storage.tenants.fetch(slug: order.slug), tenant.id == order.tenantID else { return }
        switch tenant.status {
        case .deleting:
            guard let purgeAfter = tenant.purgeAfter.flatMap(Timestamp.date), purgeAfter <= now else { return }
            // The guarded change comes first: a resume racing this purge either wins (and
            // nothing is removed) or finds the tenant already deleted.
            try await storage.tenants.update(tenant.slug, from: [.deleting], action: "purged", status: .deleted)
        case .deleted:
            break
        default:
            return
        }
        await storage.tenants.removeDatabase(of: try TenantSlug(tenant.slug))
        try await purgeModules(tenant)
        logger.notice("tenant purged", metadata: ["tenant_id": "\(tenant.slug)"])
    }

    /// The job handler that purges deleted tenants.
    package func purgeHandler() -> JobHandler {
        JobHandler(kind: Self.purgeKind, policy: policy) { run in
            try await self.purge(try run.job.decodePayload(as: ProvisioningOrder.self))
        }
    }

    private func recordInTrail(_ tenant: Tenant, _ action: String, by actor: AuditActor, details: [String: String] = [:]) async throws {
        guard try await storage.tenants.databaseExists(tenant.slug) else { return }
        let scope = try await storage.tenants.scope(for: tenant)
        try await audit.record(actor.record(action, resourceType: "tenant", resourceID: tenant.id, details: details), in: scope)
    }

    // MARK: Reading

    /// A tenant with its provisioning record: the steps run and its latest provisioning job.
    package struct Description: Sendable {
        package var tenant: Tenant
        package var steps: [ProvisioningLog.Entry]
        package var job: Job?
    }

    package func describe(_ slug: String) async throws -> Description {
        guard let tenant = try await storage.tenants.fetch(slug: slug) else { throw TenantError.notFound(slug) }
        let job = try await queue.list(kind: Self.provisionKind, tenant: slug, limit: 1).first
        return Description(tenant: tenant, steps: try await log.entries(tenantID: tenant.id), job: job)
    }
}
