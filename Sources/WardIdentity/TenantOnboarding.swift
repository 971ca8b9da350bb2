package import Foundation
import SQLKit
import WardCore
import WardHTTP
package import WardStorage
package import WardAudit
import WardKit

/// What provisioning asks of identity: the permission catalogue and built-in roles in place,
/// and a first administrator who sets a password through a one-time link. Each call can run
/// again after a crash and changes nothing the second time.
extension IdentityService {
    /// How long a new administrator's set-password token stays valid (the welcome email may sit
    /// in an inbox over a weekend).
    package static let welcomeTokenLifetime: TimeInterval = 72 * 3600

    /// Adds any permission, built-in role or built-in grant the tenant's tables lack (a module
    /// added since the tenant was made brings its permissions this way). What the tenant holds
    /// is read first, by name: when it holds the catalogue already, one read is all it costs.
    package func seedCatalogue(in scope: TenantScope) async throws {
        let permissions = try scope.table("permissions"), roles = try scope.table("roles"), grants = try scope.table("role_permissions")
        let catalogue = self.catalogue
        let expected = Set(catalogue.names.map { "permission \($0)" }
            + BuiltInRole.allCases.flatMap { role in catalogue.permissions(of: role).map { "\(role.id) \($0)" } })
        let held = try await scope.read { database in
            try await database.raw("""
                SELECT 'permission ' || name AS entry FROM \(permissions)
                UNION ALL SELECT g.role_id || ' ' || g.permission FROM \(grants) g JOIN \(roles) r ON r.id = g.role_id WHERE r.built_in = 1
                """).all().map { try $0.decode(column: "entry", as: String.self) }
        }
        if expected.isSubset(of: held) { return }
        try await scope.transaction { database in
            for permission in catalogue.permissions {
                try await database.raw("""
                    INSERT INTO \(permissions) (name, description) VALUES (\(bind: permission.name), \(bind: permission.summary))
                    ON CONFLICT (name) DO NOTHING
                    """).run()
            }
            let epoch = "1970-01-01T00:00:00.000Z"
            for role in BuiltInRole.allCases {
                try await database.raw("""
                    INSERT INTO \(roles) (id, name, description, built_in, requires_mfa, created_at, updated_at)
                    VALUES (\(bind: role.id), \(bind: role.rawValue), \(bind: role.summary), 1, \(bind: role == .tenantAdmin ? 1 : 0), \(bind: epoch), \(bind: epoch))
                    ON CONFLICT (id) DO NOTHING
                    """).run()
                for permission in catalogue.permissions(of: role).sorted() {
                    try await database.raw("""
                        INSERT INTO \(grants) (role_id, permission) VALUES (\(bind: role.id), \(bind: permission))
                        ON CONFLICT DO NOTHING
                        """).run()
                }
            }
        }
    }

    /// The tenant administrator with `email`, created without a password (nobody can log in as
    /// them until the set-password token is used) unless they exist already; returns the id.
    package func ensureAdministrator(in scope: TenantScope, email: String, name: String, by actor: AuditActor) async throws -> String {
        let audit = self.audit
        let email = email.trimmingCharacters(in: .whitespaces)
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        var errors: [Problem.FieldError] = []
        if !TextRules.isEmail(email) { errors.append(.init(field: "admin_email", message: "must be an email address")) }
        if name.isEmpty || name.count > 200 { errors.append(.init(field: "admin_name", message: "must be 1 to 200 characters")) }
        if !errors.isEmpty { throw IdentityError.invalidInput(errors) }
        let users = try scope.table("users"), userRoles = try scope.table("user_roles")
        return try await scope.transaction { database in
            if let existing = try await database.select().column("id").from(users).where("email_key", .equal, email.lowercased()).first() {
                return try existing.decode(column: "id", as: String.self)
            }
            let id = UUIDv7.id()
            let now = Timestamp.now()
            try await database.insert(into: users).columns("id", "email", "email_key", "name", "status", "created_at", "updated_at")
                .values(SQLBind(id), SQLBind(email), SQLBind(email.lowercased()), SQLBind(name), SQLBind("active"), SQLBind(now), SQLBind(now))
                .run()
            try await database.insert(into: userRoles).columns("user_id", "role_id", "granted_at")
                .values(SQLBind(id), SQLBind(Self.tenantAdminRoleID), SQLBind(now)).run()
            try await audit.append(actor.record("create", resourceType: "user", resourceID: id,
                                                details: ["roles": BuiltInRole.tenantAdmin.rawValue, "password": "set by one-time token"]),
                                   in: database, scope: scope)
            return id
        }
    }

    /// Deletes sessions that ended more than a day ago (expired or revoked) with their refresh
    /// tokens, and reset tokens long expired or used; returns how many sessions went.
    @discardableResult
    package func removeEndedSessions(in scope: TenantScope) async throws -> Int {
        let now = clock.now
        let sessions = try scope.table("sessions"), refresh = try scope.table("refresh_tokens"), resets = try scope.table("password_reset_tokens")
        let cutoff = Timestamp.text(now.addingTimeInterval(-86_400))
        return try await scope.transaction { database in
            let ended: SQLQueryString = "SELECT id FROM \(sessions) WHERE expires_at < \(bind: cutoff) OR revoked_at < \(bind: cutoff)"
            try await database.raw("DELETE FROM \(refresh) WHERE session_id IN (\(ended))").run()
            let removed = try await database.raw("DELETE FROM \(sessions) WHERE expires_at < \(bind: cutoff) OR revoked_at < \(bind: cutoff) RETURNING id").all().count
            try await database.raw("DELETE FROM \(resets) WHERE expires_at < \(bind: cutoff) OR used_at < \(bind: cutoff)").run()
            return removed
        }
    }
}
