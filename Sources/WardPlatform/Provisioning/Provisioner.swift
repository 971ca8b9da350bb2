import Foundation
package import Logging
package import WardAudit
import WardCore
package import WardIdentity
package import WardMail
package import WardStorage

/// Makes a reserved tenant usable, step by step, recording each step. Every step may run again
/// after a crash or a failed attempt; on the final attempt a failure undoes what the steps
/// built, newest first, and leaves the tenant `failed` with the error.
package struct Provisioner: Sendable {
    /// Every module's part of a new tenant (`WardModule.seed`), run as the `seed` step.
    package typealias Seed = @Sendable (TenantScope, AuditActor) async throws -> Void

    let storage: Storage
    let identity: IdentityService
    let audit: AuditTrail
    let seed: Seed
    let outbox: Outbox
    let log: ProvisioningLog
    let metrics: ProvisioningMetrics
    let baseDomain: String?
    let faults: ProvisioningFaults?
    let logger: Logger

    package init(storage: Storage, identity: IdentityService, audit: AuditTrail, seed: @escaping Seed, outbox: Outbox, log: ProvisioningLog, metrics: ProvisioningMetrics,
                 baseDomain: String?, faults: ProvisioningFaults? = nil, logger: Logger) {
        self.storage = storage
        self.identity = identity
        self.audit = audit
        self.seed = seed
        self.outbox = outbox
        self.log = log
        self.metrics = metrics
        self.baseDomain = baseDomain
        self.faults = faults
        self.logger = logger
    }

    private var tenants: TenantDirectory { storage.tenants }

    /// Runs every step for `order`. `attempt` counts from 1; when `isFinal`, a failure rolls
    /// back before it is rethrown.
    @discardableResult
    package func provision(_ order: ProvisioningOrder, attempt: Int, isFinal: Bool, jobID: String?, by actor: AuditActor = .system) async throws -> Tenant {
        var done: [ProvisioningStep] = []
        for step in ProvisioningStep.allCases {
            let started = Date()
            do {
                try await faults?.inject(step, attempt)
                let finished = try await perform(step, order, by: actor)
                try await record(order, step: step, attempt: attempt, jobID: jobID, started: started, outcome: "succeeded", error: nil)
                done.append(step)
                if finished { break }
            } catch {
                let message = Self.describe(error)
                try? await record(order, step: step, attempt: attempt, jobID: jobID, started: started, outcome: "failed", error: message)
                logger.warning("provisioning step failed", metadata: [
                    "tenant_id": "\(order.slug)", "step": "\(step.rawValue)", "attempt": "\(attempt)", "final": "\(isFinal)", "error": "\(message)",
                ])
                // A worker shutting down gives the job back: that is no failure to undo.
                if isFinal, !(error is CancellationError), !Task.isCancelled {
                    await rollBack(order, through: done + [step], attempt: attempt, jobID: jobID, error: "\(step.rawValue): \(message)")
                    metrics.recordRun("failed")
                } else {
                    metrics.recordRun("retrying")
                }
                throw error
            }
        }
        metrics.recordRun("succeeded")
        return try await fetch(order)
    }

    /// Undoes the steps of a provisioning that will not complete (it failed on its final attempt,
    /// or its worker vanished then) and marks the tenant failed.
    package func abandon(_ order: ProvisioningOrder, jobID: String?, error: String) async {
        if await rollBack(order, through: ProvisioningStep.allCases, attempt: 0, jobID: jobID, error: error) {
            metrics.recordRun("failed")
        }
    }

    // MARK: Steps

    /// Performs `step`; returns true when provisioning turned out to be complete already.
    private func perform(_ step: ProvisioningStep, _ order: ProvisioningOrder, by actor: AuditActor) async throws -> Bool {
        switch step {
        case .reserveSlug:
            let tenant = try await fetch(order)
            switch tenant.status {
            case .active: return true
            case .pending, .provisioning, .failed:
                try await tenants.update(order.slug, status: .provisioning, lastError: .some(nil))
            case .suspended, .deleting, .deleted:
                throw TenantError.wrongState(order.slug, tenant.status, "provisioned")
            }
        case .placeOnShard:
            try await tenants.placeOnShard(order.slug, named: order.shard)
        case .createDatabase:
            try await tenants.createDatabase(for: try await fetch(order))
        case .migrate:
            try await tenants.migrate(try await fetch(order))
        case .seed:
            try await seed(try await scope(order), actor)
        case .createAdmin:
            guard let email = order.adminEmail else { break }
            _ = try await identity.ensureAdministrator(in: try await scope(order), email: email, name: order.adminName ?? "Administrator", by: actor)
        case .queueWelcomeEmail:
            let dedupeKey = "welcome:\(order.tenantID)"
            guard let email = order.adminEmail, try await !outbox.isQueued(dedupeKey: dedupeKey) else { break }
            let scope = try await scope(order)
            let name = order.adminName ?? "Administrator"
            let userID = try await identity.ensureAdministrator(in: scope, email: email, name: name, by: actor)
            let grant = try await identity.issueWelcomeToken(for: userID, in: scope, by: actor)
            try await outbox.send(Letter(template: PlatformMail.welcome.name, tenant: order.slug, recipient: MailAddress(email, name: name),
                                         values: ["name": name, "clinic": scope.tenant.name, "expires": grant.expiresAt,
                                                  "link": PasswordResetMail.link(tenant: scope.tenant.slug, token: grant.token, baseDomain: baseDomain)],
                                         dedupeKey: dedupeKey), scope: scope)
        case .activate:
            let scope = try await scope(order)
            try await audit.record(actor.record("tenant_created", resourceType: "tenant", resourceID: order.tenantID,
                                                details: ["slug": order.slug, "time_zone": scope.tenant.timeZone, "shard": scope.tenant.shard]), in: scope)
            // Only from `provisioning`: a rollback that already began (a lease lost to the reaper)
            // has moved it to `failed`, and must not be undone by a late activation.
            try await tenants.update(order.slug, from: [.provisioning], action: "activated", status: .active, lastError: .some(nil))
            logger.info("tenant active", metadata: ["tenant_id": "\(order.slug)"])
        }
        return false
    }

    // MARK: Rolling back

    /// Undoes `steps` newest first and marks the tenant failed; false when it was left alone.
    @discardableResult
    private func rollBack(_ order: ProvisioningOrder, through steps: [ProvisioningStep], attempt: Int, jobID: String?, error: String) async -> Bool {
        // Only a tenant still being made is undone: one that became active (its worker died
        // after the last step) or was suspended or deleted meanwhile keeps its database.
        // Claim the tenant first, in one guarded change: a late `activate` then fails instead of
        // activating a tenant whose database is being removed.
        guard (try? await fetch(order)) != nil,
              (try? await tenants.update(order.slug, from: [.pending, .provisioning, .failed], action: "rolled back", status: .failed,
                                         lastError: .some(String(error.prefix(2000))))) != nil else {
            logger.warning("provisioning not rolled back: the tenant is no longer being provisioned", metadata: ["tenant_id": "\(order.slug)"])
            return false
        }
        for step in steps.reversed() {
            let started = Date()
            do {
                try await undo(step, order)
                try await record(order, step: step, attempt: attempt, jobID: jobID, started: started, outcome: "rolled_back", error: nil)
            } catch {
                logger.error("provisioning rollback step failed", metadata: ["tenant_id": "\(order.slug)", "step": "\(step.rawValue)", "error": "\(error)"])
            }
        }
        logger.error("provisioning failed and was rolled back", metadata: ["tenant_id": "\(order.slug)", "error": "\(error)"])
        await alertAdministrators(order, attempt: attempt, error: error)
        return true
    }

    /// Emails every control-plane administrator that the clinic's provisioning failed for good.
    /// An alert that cannot be queued is logged; it never stops the rollback.
    private func alertAdministrators(_ order: ProvisioningOrder, attempt: Int, error: String) async {
        do {
            let clinic = try await storage.tenants.find(slug: order.slug)?.name ?? order.slug
            for admin in try await identity.platformAdminContacts() {
                try await outbox.send(Letter(template: PlatformMail.provisioningFailed.name, tenant: nil, recipient: MailAddress(admin.email, name: admin.name),
                                             values: ["slug": order.slug, "clinic": clinic, "error": String(error.prefix(500))],
                                             dedupeKey: "provisioning_failed:\(order.tenantID):\(attempt):\(admin.email.lowercased())"))
            }
        } catch {
            logger.error("could not queue the provisioning failure alert", metadata: ["tenant_id": "\(order.slug)", "error": "\(error)"])
        }
    }

    private func undo(_ step: ProvisioningStep, _ order: ProvisioningOrder) async throws {
        switch step {
        case .queueWelcomeEmail:
            try await outbox.withdraw(tenant: order.slug, template: PlatformMail.welcome.name)
        case .createDatabase:
            // Removing the database undoes the migrations, seed and administrator with it.
            await tenants.removeDatabase(of: try TenantSlug(order.slug))
        case .reserveSlug, .placeOnShard, .migrate, .seed, .createAdmin, .activate:
            // The slug stays reserved (slugs are never reused) and the tenant ends `failed`.
            break
        }
    }

    // MARK: Helpers

    private func fetch(_ order: ProvisioningOrder) async throws -> Tenant {
        guard let tenant = try await tenants.fetch(slug: order.slug), tenant.id == order.tenantID else { throw TenantError.notFound(order.slug) }
        return tenant
    }

    private func scope(_ order: ProvisioningOrder) async throws -> TenantScope {
        try await tenants.scope(for: try await fetch(order))
    }

    private func record(_ order: ProvisioningOrder, step: ProvisioningStep, attempt: Int, jobID: String?, started: Date,
                        outcome: String, error: String?) async throws {
        let finished = Date()
        let seconds = finished.timeIntervalSince(started)
        if outcome == "succeeded" { metrics.recordStep(step, seconds: seconds) }
        try await log.record(.init(
            id: UUIDv7.id(), tenantID: order.tenantID, jobID: jobID, step: step.rawValue, attempt: attempt,
            startedAt: Timestamp.text(started), finishedAt: Timestamp.text(finished), durationMs: Int(seconds * 1000), outcome: outcome,
            error: error.map { String($0.prefix(2000)) }
        ))
    }

    /// An error as one line for the tenant's record: the problem's detail when it has one.
    static func describe(_ error: any Error) -> String {
        if let problem = error as? any ProblemConvertible {
            return [problem.problem.title, problem.problem.detail].compactMap { $0 }.joined(separator: ": ")
        }
        return String(describing: error)
    }
}
