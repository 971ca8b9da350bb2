package import Foundation
import SQLKit
import WardCore
package import WardHTTP
import WardStorage

/// Control-plane administrators: kept in the control plane, apart from every tenant's users,
/// with tokens of their own audience that no tenant route accepts.
extension IdentityService {
    package struct PlatformGrant: Codable, Sendable, APIResponseBody {
        package static var schemaName: String { "PlatformTokenGrant" }
        package let accessToken: String
        package let tokenType: String
        package let expiresIn: Int
        enum CodingKeys: String, CodingKey { case accessToken = "access_token", tokenType = "token_type", expiresIn = "expires_in" }
    }

    var platformAdmins: SQLQualifiedTable { SQLQualifiedTable("platform_admins", space: controlSchema) }

    /// Every control-plane administrator's address and name, for alerts.
    package func platformAdminContacts() async throws -> [(email: String, name: String)] {
        let table = platformAdmins
        return try await controlPlane.read { database in
            try await database.select().columns("email", "name").from(table).where("status", .equal, "active").orderBy("email").all().map {
                (try $0.decode(column: "email", as: String.self), try $0.decode(column: "name", as: String.self))
            }
        }
    }

    /// Creates a control-plane administrator (`ward admin create`).
    @discardableResult
    package func createPlatformAdmin(email: String, name: String, password: String) async throws -> String {
        guard TextRules.isEmail(email) else { throw IdentityError.invalidInput([.init(field: "email", message: "must be an email address")]) }
        let violations = policy.violations(of: password, email: email, name: name)
        if !violations.isEmpty { throw IdentityError.invalidPassword(violations) }
        let hash = try await hasher.hash(password)
        let id = UUIDv7.id(), now = Timestamp.now()
        let table = platformAdmins
        try await controlPlane.transaction { database in
            if try await database.select().column("id").from(table).where("email_key", .equal, email.lowercased()).first() != nil {
                throw IdentityError.emailTaken
            }
            try await database.insert(into: table).columns("id", "email", "email_key", "name", "status", "password_hash", "created_at", "updated_at")
                .values(SQLBind(id), SQLBind(email), SQLBind(email.lowercased()), SQLBind(name), SQLBind("active"), SQLBind(hash), SQLBind(now), SQLBind(now))
                .run()
        }
        return id
    }

    /// Logs a control-plane administrator in, with the same uniform failures, throttling and
    /// lockout as tenant users.
    package func platformLogin(email: String, password: String, client: String) async throws -> PlatformGrant {
        let admin = try await checkPlatformPassword(email: email, password: password, client: client)
        let token = try await platformTokens.issue(user: admin.id, tenant: "", session: "", now: admin.now)
        return PlatformGrant(accessToken: token.token, tokenType: "Bearer", expiresIn: token.expiresIn)
    }

    /// An administrator's email and password checked (throttling and lockout included); the
    /// failed attempts are cleared and the login time recorded.
    func checkPlatformPassword(email: String, password: String, client: String) async throws -> (id: String, now: Date) {
        if let wait = throttle.attempt(from: "platform/" + client) { throw IdentityError.throttled(retryAfterSeconds: wait) }
        let table = platformAdmins
        let row = try await controlPlane.read { database in
            try await database.select().columns("id", "status", "password_hash", "locked_until").from(table)
                .where("email_key", .equal, email.lowercased()).first()
        }
        guard let row else {
            _ = try await hasher.verify(password, against: try await hasher.hash("ward-timing-equaliser"))
            throw IdentityError.invalidCredentials
        }
        let id = try row.decode(column: "id", as: String.self)
        let now = clock.now
        if let locked = Timestamp.date(try row.decode(column: "locked_until", as: String?.self) ?? ""), locked > now {
            throw IdentityError.locked(retryAfterSeconds: Int(locked.timeIntervalSince(now).rounded(.up)))
        }
        guard try await hasher.verify(password, against: try row.decode(column: "password_hash", as: String.self)) else {
            let threshold = settings.lockoutThreshold
            let lockUntil = Timestamp.text(now.addingTimeInterval(settings.lockoutDuration.timeInterval))
            try await controlPlane.transaction { database in
                try await database.raw("UPDATE \(table) SET failed_attempts = failed_attempts + 1 WHERE id = \(bind: id)").run()
                try await database.raw("""
                    UPDATE \(table) SET locked_until = \(bind: lockUntil), failed_attempts = 0
                    WHERE id = \(bind: id) AND failed_attempts >= \(bind: threshold)
                    """).run()
            }
            throw IdentityError.invalidCredentials
        }
        guard try row.decode(column: "status", as: String.self) == "active" else { throw IdentityError.invalidCredentials }
        try await controlPlane.transaction { database in
            try await database.update(table).set("failed_attempts", to: 0).set("locked_until", to: SQLLiteral.null)
                .set("last_login_at", to: Timestamp.text(now)).where("id", .equal, id).run()
        }
        return (id, now)
    }

    /// The active administrator behind a platform token; throws `unauthenticated` otherwise.
    package func platformAdmin(forAccessToken token: String) async throws -> String {
        let claims: AccessTokenClaims
        do { claims = try await platformTokens.verify(token, now: clock.now) } catch {
            throw IdentityError.unauthenticated("The platform access token is missing, malformed or expired.")
        }
        let table = platformAdmins
        let status = try await controlPlane.read { database in
            try await database.select().column("status").from(table).where("id", .equal, claims.sub.value).first()
        }
        guard try status?.decode(column: "status", as: String.self) == "active" else {
            throw IdentityError.unauthenticated("The administrator account is not active.")
        }
        return claims.sub.value
    }
}
