package import WardCore

/// A clinic or hospital using Ward: one tenant, with its own database.
package struct Tenant: Sendable, Equatable, Codable {
    /// Where a tenant is in its life.
    package enum Status: String, Sendable, Codable, CaseIterable {
        case pending, provisioning, active, failed, suspended, deleting, deleted
    }

    package var id: String
    package var slug: String
    package var name: String
    package var status: Status
    package var shard: String
    package var timeZone: String
    package var createdAt: String
    package var updatedAt: String
    /// Why provisioning last failed, while the tenant is `failed`.
    package var lastError: String?
    /// When the tenant was deleted (it is `deleting` until purged, then `deleted`).
    package var deletedAt: String?
    /// When a deleted tenant's data is purged.
    package var purgeAfter: String?

    package init(id: String, slug: String, name: String, status: Status, shard: String, timeZone: String, createdAt: String, updatedAt: String,
                 lastError: String? = nil, deletedAt: String? = nil, purgeAfter: String? = nil) {
        self.id = id
        self.slug = slug
        self.name = name
        self.status = status
        self.shard = shard
        self.timeZone = timeZone
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lastError = lastError
        self.deletedAt = deletedAt
        self.purgeAfter = purgeAfter
    }

    enum CodingKeys: String, CodingKey {
        case id, slug, name, status, shard
        case timeZone = "time_zone"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case lastError = "last_error"
        case deletedAt = "deleted_at"
        case purgeAfter = "purge_after"
    }
}

/// Why a tenant operation was refused.
package enum TenantError: Error, Equatable, CustomStringConvertible, ProblemConvertible {
    case invalidSlug(String, String)
    case invalidName(String)
    case slugTaken(String)
    case notFound(String)
    case suspended(String)
    case unavailable(String, Tenant.Status)
    case invalidTimeZone(String)
    case wrongState(String, Tenant.Status, String)

    package var description: String {
        switch self {
        case .invalidSlug(let slug, let reason): "tenant slug '\(slug)' \(reason)"
        case .invalidName(let slug): "tenant '\(slug)' needs a name of 1 to 200 characters"
        case .slugTaken(let slug): "tenant slug '\(slug)' is already taken (slugs are never reused)"
        case .notFound(let slug): "no tenant '\(slug)'"
        case .suspended(let slug): "tenant '\(slug)' is suspended"
        case .unavailable(let slug, let status): "tenant '\(slug)' is \(status.rawValue)"
        case .invalidTimeZone(let zone): "unknown time zone '\(zone)'"
        case .wrongState(let slug, let status, let action): "tenant '\(slug)' is \(status.rawValue) and cannot be \(action)"
        }
    }

    package var problem: Problem {
        switch self {
        case .invalidSlug, .invalidName, .invalidTimeZone:
            Problem(status: 422, title: "Invalid tenant", detail: description)
        case .slugTaken:
            Problem(status: 409, title: "Tenant exists", detail: description)
        case .wrongState:
            Problem(status: 409, title: "Tenant state conflict", detail: description)
        case .notFound:
            Problem(status: 404, title: "Unknown tenant", detail: description)
        case .suspended:
            Problem(status: 403, title: "Tenant suspended", detail: description)
        case .unavailable:
            Problem(status: 403, title: "Tenant unavailable", detail: description)
        }
    }
}
