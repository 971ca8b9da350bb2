/// The steps that make a tenant, in order. Each is idempotent (running it again after a crash
/// changes nothing more) and has an undo for when provisioning fails for good.
package enum ProvisioningStep: String, CaseIterable, Sendable, Codable {
    case reserveSlug = "reserve_slug"
    case placeOnShard = "place_on_shard"
    case createDatabase = "create_database"
    case migrate
    case seed
    case createAdmin = "create_admin"
    case queueWelcomeEmail = "queue_welcome_email"
    case activate
}

/// A failure injected before a step runs, so tests can prove every step's retry and rollback.
/// Nodes never install one; only tests construct it.
package struct ProvisioningFaults: Sendable {
    let inject: @Sendable (_ step: ProvisioningStep, _ attempt: Int) async throws -> Void

    package init(_ inject: @escaping @Sendable (_ step: ProvisioningStep, _ attempt: Int) async throws -> Void) {
        self.inject = inject
    }
}

/// What a provisioning job carries: the tenant and its first administrator.
package struct ProvisioningOrder: Codable, Sendable, Equatable {
    package var tenantID: String
    package var slug: String
    package var adminEmail: String?
    package var adminName: String?
    /// The shard the request named; nil places by policy.
    package var shard: String?

    package init(tenantID: String, slug: String, adminEmail: String?, adminName: String?, shard: String? = nil) {
        self.tenantID = tenantID
        self.slug = slug
        self.adminEmail = adminEmail
        self.adminName = adminName
        self.shard = shard
    }

    enum CodingKeys: String, CodingKey {
        case tenantID = "tenant_id", slug, adminEmail = "admin_email", adminName = "admin_name", shard
    }
}
