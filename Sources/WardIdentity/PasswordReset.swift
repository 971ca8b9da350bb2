package import OpenAPIKit
package import WardHTTP
import Crypto
package import Foundation
import SQLKit
import WardCore
package import WardStorage
package import WardAudit

/// One-time password reset tokens: issued by an administrator (email delivery arrives with the
/// email module), valid for an hour, stored only as hashes, and used once.
extension IdentityService {
    package struct ResetGrant: Codable, Sendable, APIResponseBody {
        package static var schemaName: String { "PasswordReset" }
        package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["expires_at": .dateTime] }
        package let token: String
        package let expiresAt: String
        enum CodingKeys: String, CodingKey { case token, expiresAt = "expires_at" }
    }

    package static let resetLifetime: TimeInterval = 3600

    /// Issues a reset token for user `id`, valid for `lifetime` seconds; earlier unused tokens
    /// of that user stop working.
    package func issuePasswordReset(for id: String, in scope: TenantScope, by actor: AuditActor,
                                    lifetime: TimeInterval = IdentityService.resetLifetime) async throws -> ResetGrant {
        try await issue(RefreshToken.make(tenant: scope.tenant.slug), for: id, in: scope, by: actor, lifetime: lifetime)
    }

    /// The set-password token of a tenant's first administrator, for the welcome email. It is
    /// derived from the node's secret, the tenant and the user, so the provisioning step that
    /// issues it may run again (after a crash, or on two workers at once) and still leave one
    /// token: the one the queued email carries. A random token per run left one per attempt,
    /// and the email that won could carry one a later run had already revoked.
    package func issueWelcomeToken(for id: String, in scope: TenantScope, by actor: AuditActor,
                                   lifetime: TimeInterval = IdentityService.welcomeTokenLifetime) async throws -> ResetGrant {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(scope.tenant.id)/\(id)".utf8), using: welcomeTokenKey)
        return try await issue(RefreshToken.make(tenant: scope.tenant.slug, secret: mac), for: id, in: scope, by: actor, lifetime: lifetime)
    }

    /// Stores `token` for user `id`, valid for `lifetime` seconds; the user's other unused
    /// tokens stop working. A token stored already is kept as it is (and its first expiry).
    private func issue(_ token: (token: String, hash: String), for id: String, in scope: TenantScope, by actor: AuditActor,
                       lifetime: TimeInterval) async throws -> ResetGrant {
        let audit = self.audit
        let users = try scope.table("users"), resets = try scope.table("password_reset_tokens")
        let now = clock.now
        let fresh = Timestamp.text(now.addingTimeInterval(lifetime))
        let expires = try await scope.transaction { database -> String in
            guard try await database.select().column("id").from(users).where("id", .equal, id).first() != nil else { throw IdentityError.userNotFound }
            try await Grantor.of(actor, in: database, scope: scope)?.mayManage(user: id, in: database, scope: scope)
            if let issued = try await database.select().column("expires_at").from(resets).where("token_hash", .equal, token.hash).first() {
                return try issued.decode(column: "expires_at", as: String.self)
            }
            try await database.update(resets).set("used_at", to: Timestamp.text(now)).where("user_id", .equal, id)
                .where("used_at", .is, SQLLiteral.null).run()
            try await database.insert(into: resets).columns("token_hash", "user_id", "created_at", "expires_at")
                .values(SQLBind(token.hash), SQLBind(id), SQLBind(Timestamp.text(now)), SQLBind(fresh)).run()
            try await audit.append(actor.record("password_reset_issue", resourceType: "user", resourceID: id), in: database, scope: scope)
            return fresh
        }
        return ResetGrant(token: token.token, expiresAt: expires)
    }

    /// Sets a new password with a reset token: the token is spent, lockout cleared, and every
    /// session of the user ended.
    package func resetPassword(token: String, to password: String, by actor: AuditActor) async throws {
        let audit = self.audit
        guard let slug = RefreshToken.tenant(of: token), let scope = try await activeScopeOrNil(slug) else {
            throw IdentityError.unauthenticated("The reset token is not valid.")
        }
        let users = try scope.table("users"), resets = try scope.table("password_reset_tokens"), sessions = try scope.table("sessions")
        let hash = RefreshToken.hash(token)
        let row = try await scope.read { database in
            try await database.raw("""
                SELECT u.id, u.email, u.name, t.expires_at, t.used_at FROM \(resets) t JOIN \(users) u ON u.id = t.user_id
                WHERE t.token_hash = \(bind: hash)
                """).first()
        }
        guard let row, try row.decode(column: "used_at", as: String?.self) == nil,
              let expires = Timestamp.date(try row.decode(column: "expires_at", as: String.self)), expires > clock.now else {
            throw IdentityError.unauthenticated("The reset token is not valid, was used, or has expired.")
        }
        let userID = try row.decode(column: "id", as: String.self)
        let violations = policy.violations(of: password, email: try row.decode(column: "email", as: String.self),
                                           name: try row.decode(column: "name", as: String.self))
        if !violations.isEmpty { throw IdentityError.invalidPassword(violations) }
        let newHash = try await hasher.hash(password)
        let now = Timestamp.text(clock.now)
        let spent = try await scope.transaction { database -> Bool in
            // Spend the token first and only if still unspent: two racing resets cannot both win.
            try await database.raw("UPDATE \(resets) SET used_at = \(bind: now) WHERE token_hash = \(bind: hash) AND used_at IS NULL").run()
            let check = try await database.select().column("used_at").from(resets).where("token_hash", .equal, hash).first()
            guard try check?.decode(column: "used_at", as: String?.self) == now else { return false }
            try await database.update(users).set("password_hash", to: newHash).set("password_changed_at", to: now)
                .set("failed_attempts", to: 0).set("locked_until", to: SQLLiteral.null).set("updated_at", to: now)
                .where("id", .equal, userID).run()
            try await database.update(sessions).set("revoked_at", to: now).set("revoked_reason", to: "password reset")
                .where("user_id", .equal, userID).where("revoked_at", .is, SQLLiteral.null).run()
            try await audit.append(actor.record("password_reset", resourceType: "user", resourceID: userID), in: database, scope: scope)
            return true
        }
        guard spent else { throw IdentityError.unauthenticated("The reset token is not valid, was used, or has expired.") }
        principals.evict(tenant: slug, user: userID)
    }
}
