import Foundation
import SQLKit
package import WardAudit
import WardCore
import WardStorage

/// Sessions of the console (`/console`), the control-plane administrators' pages. They follow
/// the tenant sessions' rules (a row per session; idle and absolute limits; sign-out ends it)
/// in the control plane's `platform_sessions`, and travel in a cookie signed as the web app's:
///
///     <session id>.<administrator id>.<HMAC-SHA256, base64url>
extension IdentityService {
    /// A signed-in console administrator.
    package struct ConsoleAdmin: Sendable {
        package let id: String
        package let name: String
        package let email: String
        package let sessionID: String
    }

    private var platformSessions: SQLQualifiedTable { SQLQualifiedTable("platform_sessions", space: controlSchema) }

    /// Checks an administrator's password (throttled and locked out as the API's platform
    /// login) and opens a console session; returns its cookie.
    package func consoleSignIn(email: String, password: String, by actor: AuditActor) async throws -> String {
        let admin = try await checkPlatformPassword(email: email, password: password, client: actor.clientAddress ?? "unknown")
        let sessionID = UUIDv7.id(at: admin.now), now = Timestamp.text(admin.now)
        let expires = Timestamp.text(admin.now.addingTimeInterval(settings.sessionMaximum.timeInterval))
        let table = platformSessions
        try await controlPlane.transaction { database in
            try await database.insert(into: table)
                .columns("id", "admin_id", "created_at", "last_seen_at", "expires_at", "client_address", "user_agent")
                .values(SQLBind(sessionID), SQLBind(admin.id), SQLBind(now), SQLBind(now), SQLBind(expires), SQLBind(actor.clientAddress),
                        SQLBind(actor.userAgent.map { String($0.prefix(256)) }))
                .run()
        }
        logger.notice("console sign-in", metadata: ["admin_id": "\(admin.id)", "session_id": "\(sessionID)"])
        return sign(["console", sessionID, admin.id])
    }

    /// The administrator of a console cookie; `unauthenticated` for a forged cookie, a session
    /// ended (signed out, idle, past its limit) or an administrator no longer active.
    package func consoleAdmin(forSessionCookie cookie: String) async throws -> ConsoleAdmin {
        guard let fields = opened(cookie, kind: "console", count: 2) else { throw IdentityError.unauthenticated("Sign in to continue.") }
        let sessions = platformSessions, admins = platformAdmins
        let now = clock.now
        guard let row = try await controlPlane.read({ database in
            try await database.raw("""
                SELECT s.last_seen_at, s.expires_at, s.revoked_at, a.name, a.email, a.status FROM \(sessions) s
                JOIN \(admins) a ON a.id = s.admin_id WHERE s.id = \(bind: fields[0]) AND s.admin_id = \(bind: fields[1])
                """).first()
        }),
            try row.decode(column: "revoked_at", as: String?.self) == nil,
            try row.decode(column: "status", as: String.self) == "active",
            let expires = Timestamp.date(try row.decode(column: "expires_at", as: String.self)), expires > now,
            let seen = Timestamp.date(try row.decode(column: "last_seen_at", as: String.self)),
            now.timeIntervalSince(seen) <= settings.sessionIdleTimeout.timeInterval
        else { throw IdentityError.unauthenticated("The session has ended.") }
        // Console traffic is light: last-seen is written on every request, so idle is exact.
        try await controlPlane.transaction { database in
            try await database.update(sessions).set("last_seen_at", to: Timestamp.text(now)).where("id", .equal, fields[0]).run()
        }
        return ConsoleAdmin(id: fields[1], name: try row.decode(column: "name", as: String.self), email: try row.decode(column: "email", as: String.self),
                            sessionID: fields[0])
    }

    /// Ends a console session.
    package func consoleSignOut(_ admin: ConsoleAdmin) async throws {
        let sessions = platformSessions
        try await controlPlane.transaction { database in
            try await database.update(sessions).set("revoked_at", to: Timestamp.text(clock.now))
                .where("id", .equal, admin.sessionID).where("revoked_at", .is, SQLLiteral.null).run()
        }
    }
}
