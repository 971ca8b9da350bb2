import Crypto
package import Foundation
import SQLKit
package import WardAudit
import WardCore
package import WardHTTP
import WardStorage

/// Sign-in for the web app. A browser holds the same session as an API client (one row in the
/// tenant's `sessions`, the same idle and absolute limits, the same revocation), carried in a
/// cookie instead of a bearer token:
///
///     <tenant>.<session id>.<user id>.<HMAC-SHA256 of the three, base64url>
///
/// The cookie names a session; it grants nothing the session row does not (a revoked or idle
/// session refuses it), and its MAC keeps a browser from naming another user's session. The key
/// is derived from the node's secret, so every node of a deployment accepts it.
extension IdentityService {
    /// A browser's session, as its cookie carries it.
    package struct WebSession: Sendable {
        package let cookie: String
        package let tenant: String
        /// When the session ends in any case (RFC 3339).
        package let expiresAt: String
    }

    /// Where a browser's sign-in stands after the password.
    package enum SignInStep: Sendable {
        case signedIn(WebSession)
        /// The password was right and the user has a second factor. The ticket carries that to
        /// the code's form, for `signInTicketLifetime`; it is no session and opens nothing.
        case secondFactor(ticket: String)
    }

    static let signInTicketLifetime: TimeInterval = 300

    /// Checks the password (throttling, lockout and auditing as the API's login) and opens a
    /// session, or asks for the second factor.
    package func signIn(tenant slug: String, email: String, password: String, by actor: AuditActor) async throws -> SignInStep {
        let first = try await checkPassword(tenant: slug, email: email, password: password, by: actor)
        if first.user.totpConfirmed != 0 {
            let expiry = Int(first.now.timeIntervalSince1970 + Self.signInTicketLifetime)
            // The ticket names the last authenticator step accepted: once any code is accepted
            // for the user (this sign-in's or another's), the ticket stops working.
            return .secondFactor(ticket: sign(["ticket", first.scope.tenant.slug, first.user.id, String(expiry), String(first.user.totpLastStep)]))
        }
        return .signedIn(try await openWebSession(for: first.user, in: first.scope, by: actor, now: first.now))
    }

    /// The second step of a sign-in: the code from the user's authenticator app (or a recovery
    /// code). A wrong code counts towards the account's lockout, as on the API.
    package func completeSignIn(ticket: String, code: String, by actor: AuditActor) async throws -> WebSession {
        if let wait = throttle.attempt(from: actor.clientAddress ?? "unknown") { throw IdentityError.throttled(retryAfterSeconds: wait) }
        let now = clock.now
        guard let fields = opened(ticket, kind: "ticket", count: 4), let expiry = TimeInterval(fields[2]),
              expiry >= now.timeIntervalSince1970 else {
            throw IdentityError.unauthenticated("The sign-in took too long; enter your email and password again.")
        }
        guard let scope = try await activeScopeOrNil(fields[0]) else { throw IdentityError.invalidCredentials }
        let users = try scope.table("users")
        let found = try await scope.read { database in
            try await database.select().columns(UserRow.columns).from(users).where("id", .equal, fields[1]).first(decoding: UserRow.self)
        }
        guard let user = found, user.status == "active" else { throw IdentityError.invalidCredentials }
        guard String(user.totpLastStep) == fields[3] else {
            throw IdentityError.unauthenticated("This sign-in was already completed or replaced; enter your email and password again.")
        }
        let failure = AuditActor(type: .user, id: user.id, name: user.name, clientAddress: actor.clientAddress,
                                 userAgent: actor.userAgent, requestID: actor.requestID)
        if let lockedUntil = user.lockedUntil.flatMap(Timestamp.date), lockedUntil > now {
            try await audit.record(failure.record("login_failed", resourceType: "user", resourceID: user.id, outcome: .denied, reason: "account locked"), in: scope)
            throw IdentityError.locked(retryAfterSeconds: Int(lockedUntil.timeIntervalSince(now).rounded(.up)))
        }
        guard try await acceptSecondFactor(code.trimmingCharacters(in: .whitespaces), of: user, in: scope) else {
            try await recordFailure(of: user.id, in: scope, now: now, reason: "wrong second factor", by: failure)
            throw IdentityError.secondFactorRequired
        }
        return try await openWebSession(for: user, in: scope, by: actor, now: now)
    }

    private func openWebSession(for user: UserRow, in scope: TenantScope, by actor: AuditActor, now: Date) async throws -> WebSession {
        let session = try await createSession(for: user, in: scope, by: actor, now: now, refreshTokenHash: nil)
        return WebSession(cookie: sign(["session", scope.tenant.slug, session.id, user.id]), tenant: scope.tenant.slug, expiresAt: session.expiresAt)
    }

    /// The principal of a session cookie; `unauthenticated` for a forged cookie or a session
    /// that has ended (signed out, idle, past its limit, user disabled).
    package func principal(forSessionCookie cookie: String) async throws -> Principal {
        let fields: [String]
        if let known = verifiedCookies.withLock({ $0[cookie] }) {
            fields = known
        } else {
            guard let checked = opened(cookie, kind: "session", count: 3), (try? TenantSlug(checked[0])) != nil else {
                throw IdentityError.unauthenticated("Sign in to continue.")
            }
            fields = checked
            verifiedCookies.withLock { verified in
                if verified.count >= 50_000 { verified.removeAll(keepingCapacity: true) }
                verified[cookie] = checked
            }
        }
        return try await principal(tenant: fields[0], session: fields[1], user: fields[2], now: clock.now)
    }

    /// The token every state-changing form of session `sessionID` carries (a tenant user's or
    /// a console administrator's). It is bound to the session, so a token copied from another
    /// session's page is refused.
    package func formToken(forSession sessionID: String) -> String {
        if let known = formTokens.withLock({ $0[sessionID] }) { return known }
        let token = mac(["form", sessionID])
        formTokens.withLock { tokens in
            if tokens.count >= 50_000 { tokens.removeAll(keepingCapacity: true) }
            tokens[sessionID] = token
        }
        return token
    }

    /// Whether `token` is session `sessionID`'s form token (compared in constant time).
    package func acceptsFormToken(_ token: String, forSession sessionID: String) -> Bool {
        guard let code = Self.decodeBase64URL(token) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: Data(["form", sessionID].joined(separator: "\n").utf8), using: webKey)
    }

    // MARK: Signing

    /// `fields` joined by dots, then the MAC of kind and fields. No field may hold a dot
    /// (slugs, ids and numbers do not).
    func sign(_ parts: [String]) -> String {
        (parts.dropFirst() + [mac(parts)]).joined(separator: ".")
    }

    private func mac(_ parts: [String]) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data(parts.joined(separator: "\n").utf8), using: webKey)
        return Data(code).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The fields of a value `sign` made for `kind`, or nil when its MAC does not hold.
    func opened(_ value: String, kind: String, count: Int) -> [String]? {
        guard value.utf8.count <= 512 else { return nil }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == count + 1, let code = Self.decodeBase64URL(parts[count]) else { return nil }
        let fields = Array(parts.prefix(count))
        guard HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: Data(([kind] + fields).joined(separator: "\n").utf8), using: webKey) else {
            return nil
        }
        return fields
    }

    private static func decodeBase64URL(_ text: String) -> Data? {
        guard text.count <= 64 else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
