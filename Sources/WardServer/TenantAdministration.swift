package import WardAudit
package import WardStorage
import WardClinical

/// Tenant lifecycle changes made by operators, each recorded in the tenant's own audit trail
/// (`tenant_created`, `tenant_suspended`, `tenant_resumed`) so the clinic's trail shows them.
package struct TenantAdministration: Sendable {
    package let storage: Storage
    package let audit: AuditTrail

    package init(storage: Storage, audit: AuditTrail) {
        self.storage = storage
        self.audit = audit
    }

    /// Creates a tenant (its database migrated, the starter formulary loaded, active) and
    /// records the creation.
    @discardableResult
    package func create(slug: String, name: String, timeZone: String = "UTC", by actor: AuditActor) async throws -> Tenant {
        let tenant = try await storage.tenants.create(slug: slug, name: name, timeZone: timeZone)
        let scope = try await storage.tenants.scope(for: tenant)
        try await audit.record(actor.record("tenant_created", resourceType: "tenant", resourceID: tenant.id,
                                            details: ["slug": tenant.slug, "time_zone": tenant.timeZone]), in: scope)
        try await PrescribingService(audit: audit).loadStarterFormulary(in: scope, by: actor)
        return tenant
    }

    /// Suspends or resumes a tenant; its data stays untouched either way.
    @discardableResult
    package func setStatus(_ slug: String, _ status: Tenant.Status, by actor: AuditActor) async throws -> Tenant {
        let tenant = try await storage.tenants.setStatus(slug, status)
        let scope = try await storage.tenants.scope(for: tenant)
        try await audit.record(actor.record("tenant_" + (status == .active ? "resumed" : status.rawValue), resourceType: "tenant",
                                            resourceID: tenant.id), in: scope)
        return tenant
    }
}
