import Foundation
package import OpenAPIKit
import SQLKit
import Synchronization
package import WardAudit
package import WardCore
package import WardHTTP
package import WardStorage

/// The browser origins each clinic allows to call its API with credentials (CORS), kept in
/// the control plane and read through a cache of `lifetime`: a change reaches other nodes
/// within it, this node at once.
package final class TenantOrigins: Sendable {
    private struct Cached { var origins: Set<String>; var at: ContinuousClock.Instant }
    private let database: any Database
    private let table: SQLQualifiedTable
    private let tenants: SQLQualifiedTable
    private let byTenant = Mutex<[String: Cached]>([:])
    private let anywhere = Mutex<[String: (Bool, ContinuousClock.Instant)]>([:])
    private let audit: AuditTrail
    package static let lifetime: Duration = .seconds(30)
    /// The most origins one clinic lists.
    static let most = 20

    package init(storage: Storage, audit: AuditTrail) {
        self.database = storage.controlPlane
        self.table = SQLQualifiedTable("tenant_cors_origins", space: storage.controlPlaneTarget.schema)
        self.tenants = SQLQualifiedTable("tenants", space: storage.controlPlaneTarget.schema)
        self.audit = audit
    }

    /// The origins the tenant with slug `slug` allows.
    package func origins(of slug: String) async throws -> Set<String> {
        let now = ContinuousClock.now
        if let cached = byTenant.withLock({ $0[slug] }), now - cached.at < Self.lifetime { return cached.origins }
        let table = self.table, tenants = self.tenants
        let origins = try await database.read { database in
            try await database.raw("""
                SELECT o.origin FROM \(table) o JOIN \(tenants) t ON t.id = o.tenant_id WHERE t.slug = \(bind: slug)
                """).all().map { try $0.decode(column: "origin", as: String.self) }
        }
        let found = Set(origins)
        byTenant.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }
            cache[slug] = Cached(origins: found, at: now)
        }
        return found
    }

    /// Whether any clinic allows `origin`: a preflight that names no clinic (the tenant is in a
    /// header the preflight does not carry) is answered for it, and the request itself is then
    /// held to its clinic's list.
    package func allowedByAnyTenant(_ origin: String) async throws -> Bool {
        let now = ContinuousClock.now
        if let (allowed, at) = anywhere.withLock({ $0[origin] }), now - at < Self.lifetime { return allowed }
        let table = self.table
        let allowed = try await database.read { database in
            try await database.select().column("tenant_id").from(table).where("origin", .equal, origin).limit(1).first() != nil
        }
        anywhere.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }
            cache[origin] = (allowed, now)
        }
        return allowed
    }

    /// Replaces tenant `scope`'s origins (each an http(s) origin: scheme, host, port).
    package func replace(_ origins: [String], in scope: TenantScope, by actor: AuditActor) async throws -> [String] {
        var errors: [Problem.FieldError] = []
        if origins.count > Self.most { errors.append(.init(field: "origins", message: "must list at most \(Self.most) origins")) }
        var normalised: [String] = []
        for (index, origin) in origins.enumerated() {
            if let made = HostRules.origin(origin) { normalised.append(made) } else {
                errors.append(.init(field: "origins[\(index)]", message: "must be an origin such as https://portal.example.org (no path, no wildcard)"))
            }
        }
        guard errors.isEmpty else { throw PlatformError.invalid(errors) }
        let unique = Array(Set(normalised)).sorted()
        let table = self.table, tenantID = scope.tenant.id, now = Timestamp.now()
        try await database.transaction { database in
            try await database.delete(from: table).where("tenant_id", .equal, tenantID).run()
            for origin in unique {
                try await database.insert(into: table).columns("tenant_id", "origin", "created_at").values(SQLBind(tenantID), SQLBind(origin), SQLBind(now)).run()
            }
        }
        byTenant.withLock { $0[scope.tenant.slug] = nil }
        anywhere.withLock { $0.removeAll() }
        try await audit.record(actor.record("update", resourceType: "tenant_cors_origins", resourceID: tenantID, details: ["origins": unique.joined(separator: " ")]),
                               in: scope)
        return unique
    }
}

/// A clinic's allowed browser origins, as the API reads and replaces them.
package struct CORSOrigins: Codable, Sendable, APIResponseBody, APIRequestBody {
    package static var schemaName: String { "CORSOrigins" }
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
        ["origins": .array(maxItems: TenantOrigins.most, items: .string(maxLength: 300, pattern: #"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$"#))]
    }
    package var origins: [String]
}
