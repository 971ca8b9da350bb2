package import OpenAPIKit
import Crypto
import Foundation
package import Logging
import SQLKit
import Synchronization
package import WardCore
package import WardHTTP
package import WardStorage
package import WardAudit
package import WardKit

/// The identity module's service: logins, sessions and their tokens, the principal behind an
/// access token, and the management of users and roles. Other modules call it; none reads its
/// tables.
package final class IdentityService: Sendable {
    package let tenants: TenantDirectory
    package let settings: AuthSettings
    let tokens: AccessTokens
    let hasher: PasswordHasher
    package let policy: PasswordPolicy
    let throttle: LoginThrottle
    let principals = PrincipalCache()
    let logger: Logger
    let secretBox: SecretBox
    /// Derives welcome tokens (`issueWelcomeToken`) from the node's secret.
    let welcomeTokenKey: SymmetricKey
    /// Signs the web app's session cookies, sign-in tickets and form tokens (`WebSessions`).
    let webKey: SymmetricKey
    /// The audit trail every identity event is written to.
    let audit: AuditTrail
    /// The time token expiry, session limits, lockouts and reset links are decided by.
    let clock: any WallClock
    /// Emergency access grants, consulted when a permission is missing.
    let breakGlass: BreakGlass
    /// Every permission the registered modules define, and what built-in roles hold.
    package let catalogue: PermissionCatalogue
    let platformTokens: AccessTokens
    let controlPlane: any Database
    let controlSchema: String?
    /// Whether tenant_admin's built-in second-factor requirement applies (production only).
    let enforcesAdminSecondFactor: Bool
    private let dummyHash = Mutex<String?>(nil)
    /// Tokens whose signature was already checked, with their claims: a repeat presentation
    /// of the exact same token skips the HMAC and JSON work. Expiry is still checked each time.
    private let verifiedTokens = Mutex<[String: AccessTokenClaims]>([:])
    /// Web session cookies whose MAC was already checked, with their fields, and the form token
    /// of each web session: each page view would otherwise compute two HMACs (and their
    /// base64) again. The session itself is still checked on every request.
    let verifiedCookies = Mutex<[String: [String]]>([:])
    let formTokens = Mutex<[String: String]>([:])

    /// How often a session's last-seen time is written back: idle timeouts are exact on the
    /// node serving the session and accurate to this bound across nodes.
    static let lastSeenWriteInterval: TimeInterval = 60

    package init(
        settings: WardSettings, storage: Storage, audit: AuditTrail, catalogue: PermissionCatalogue, logger: Logger,
        clock: any WallClock = SystemClock()
    ) async throws {
        self.clock = clock
        self.audit = audit
        self.catalogue = catalogue
        self.breakGlass = BreakGlass(trail: audit, duration: settings.breakGlassDuration, clock: clock)
        guard let secretKey = settings.secretKey else { throw SettingsError.invalid(.secretKey, "is required to sign tokens") }
        self.tenants = storage.tenants
        self.controlPlane = storage.controlPlane
        self.controlSchema = storage.controlPlaneTarget.schema
        self.secretBox = SecretBox(secretKey: secretKey, previousKeys: settings.auth.previousSecretKeys)
        self.welcomeTokenKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Data(secretKey.utf8)),
                                                      info: Data("ward welcome token v1".utf8), outputByteCount: 32)
        self.webKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Data(secretKey.utf8)),
                                             info: Data("ward web session v1".utf8), outputByteCount: 32)
        self.platformTokens = await AccessTokens.make(
            secretKey: secretKey, previousKeys: settings.auth.previousSecretKeys, lifetime: settings.auth.accessTokenLifetime,
            audience: AccessTokenClaims.platformAudience
        )
        self.enforcesAdminSecondFactor = settings.environment == .production
        self.settings = settings.auth
        self.tokens = await AccessTokens.make(secretKey: secretKey, previousKeys: settings.auth.previousSecretKeys, lifetime: settings.auth.accessTokenLifetime)
        self.hasher = PasswordHasher(cost: settings.auth.bcryptCost)
        self.policy = PasswordPolicy(minimumLength: settings.auth.passwordMinimumLength)
        self.throttle = LoginThrottle(attemptsPerMinute: settings.auth.loginRate)
        self.logger = logger
    }

    /// What a successful login or refresh answers (the benchmark contract's shape).
    package struct TokenGrant: Codable, Sendable, APIResponseBody {
        package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["token_type": .enumeration(["Bearer"]), "session_expires_at": .dateTime]
        }
        package let accessToken: String
        package let tokenType: String
        package let expiresIn: Int
        package let refreshToken: String
        package let sessionExpiresAt: String

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token", tokenType = "token_type", expiresIn = "expires_in"
            case refreshToken = "refresh_token", sessionExpiresAt = "session_expires_at"
        }
    }

    /// The tenant's scope, or nil when no active tenant has this slug.
    func activeScopeOrNil(_ slug: String) async throws -> TenantScope? {
        do { return try await tenants.activeScope(slug: slug) } catch is TenantError { return nil }
    }

    // MARK: Login

    /// Checks the credentials and opens a session. Unknown tenants, unknown users, wrong
    /// passwords and disabled users all answer `invalidCredentials` after a bcrypt verify, so
    /// neither the answer nor its timing tells them apart.
    package func login(tenant slug: String, email: String, password: String, secondFactor: String? = nil, by actor: AuditActor) async throws -> TokenGrant {
        let first = try await checkPassword(tenant: slug, email: email, password: password, by: actor)
        if first.user.totpConfirmed != 0 {
            guard let secondFactor, try await acceptSecondFactor(secondFactor, of: first.user, in: first.scope) else {
                if secondFactor != nil {
                    try await recordFailure(of: first.user.id, in: first.scope, now: first.now, reason: "wrong second factor", by: first.failure)
                }
                throw IdentityError.secondFactorRequired
            }
        }
        return try await openSession(for: first.user, in: first.scope, by: actor, now: first.now)
    }

    /// A login's first factor, checked: the user, their tenant, the time it was checked, and
    /// the actor a later failure is recorded as.
    struct FirstFactor {
        let scope: TenantScope
        let user: UserRow
        let now: Date
        let failure: AuditActor
    }

    /// The first factor of a login (the API's and the web app's): throttling by address, the
    /// tenant, the user, lockout, the password and the user's status, each failure audited.
    func checkPassword(tenant slug: String, email: String, password: String, by actor: AuditActor) async throws -> FirstFactor {
        let client = actor.clientAddress ?? "unknown"
        if let wait = throttle.attempt(from: client) { throw IdentityError.throttled(retryAfterSeconds: wait) }
        // Only "no such active tenant" reads as bad credentials; a database failure stays one.
        guard let scope = try await activeScopeOrNil(slug.lowercased()) else {
            try await burnVerify(password)
            throw IdentityError.invalidCredentials
        }
        let users = try scope.table("users")
        let emailKey = email.lowercased().trimmingCharacters(in: .whitespaces)
        let found = try await scope.read { database in
            try await database.select().columns(UserRow.columns).from(users).where("email_key", .equal, emailKey).first(decoding: UserRow.self)
        }
        guard let user = found, let hash = user.passwordHash else {
            try await burnVerify(password)
            try await audit.record(actor.record("login_failed", resourceType: "user", outcome: .denied, reason: "unknown email",
                                                details: ["email": String(emailKey.prefix(254))]), in: scope)
            throw IdentityError.invalidCredentials
        }
        let now = clock.now
        let failure = AuditActor(type: .user, id: user.id, name: user.name, clientAddress: actor.clientAddress,
                                 userAgent: actor.userAgent, requestID: actor.requestID)
        if let lockedUntil = user.lockedUntil.flatMap(Timestamp.date), lockedUntil > now {
            try await audit.record(failure.record("login_failed", resourceType: "user", resourceID: user.id, outcome: .denied, reason: "account locked"), in: scope)
            throw IdentityError.locked(retryAfterSeconds: Int(lockedUntil.timeIntervalSince(now).rounded(.up)))
        }
        guard try await hasher.verify(password, against: hash) else {
            try await recordFailure(of: user.id, in: scope, now: now, reason: "wrong password", by: failure)
            throw IdentityError.invalidCredentials
        }
        guard user.status == "active" else {
            try await audit.record(failure.record("login_failed", resourceType: "user", resourceID: user.id, outcome: .denied, reason: "user disabled"), in: scope)
            throw IdentityError.invalidCredentials
        }
        return FirstFactor(scope: scope, user: user, now: now, failure: failure)
    }

    /// Verifies against a fixed hash of the configured cost, so a miss costs what a hit does.
    private func burnVerify(_ password: String) async throws {
        let hash: String
        if let existing = dummyHash.withLock({ $0 }) {
            hash = existing
        } else {
            hash = try await hasher.hash("ward-timing-equaliser-\(UUID().uuidString)")
            dummyHash.withLock { $0 = hash }
        }
        _ = try await hasher.verify(password, against: hash)
    }

    func recordFailure(of userID: String, in scope: TenantScope, now: Date, reason: String, by actor: AuditActor) async throws {
        let audit = self.audit
        let users = try scope.table("users")
        let threshold = settings.lockoutThreshold
        let lockUntil = Timestamp.text(now.addingTimeInterval(settings.lockoutDuration.timeInterval))
        let locked = try await scope.transaction { database -> Bool in
            try await database.raw("UPDATE \(users) SET failed_attempts = failed_attempts + 1 WHERE id = \(bind: userID)").run()
            let row = try await database.select().column("failed_attempts").from(users).where("id", .equal, userID).first()
            let failures = try row?.decode(column: "failed_attempts", as: Int.self) ?? 0
            let locks = failures >= threshold
            if locks {
                try await database.update(users).set("locked_until", to: lockUntil).set("failed_attempts", to: 0)
                    .where("id", .equal, userID).run()
            }
            try await audit.append(actor.record("login_failed", resourceType: "user", resourceID: userID, outcome: .denied, reason: reason,
                                                details: locks ? ["locked_until": lockUntil] : [:]), in: database, scope: scope)
            return locks
        }
        if locked {
            logger.notice("account locked after failed logins", metadata: ["tenant_id": "\(scope.tenant.slug)", "user_id": "\(userID)"])
        }
    }

    private func openSession(for user: UserRow, in scope: TenantScope, by actor: AuditActor, now: Date) async throws -> TokenGrant {
        let refresh = RefreshToken.make(tenant: scope.tenant.slug)
        let session = try await createSession(for: user, in: scope, by: actor, now: now, refreshTokenHash: refresh.hash)
        let access = try await tokens.issue(user: user.id, tenant: scope.tenant.slug, session: session.id, now: now)
        return TokenGrant(accessToken: access.token, tokenType: "Bearer", expiresIn: access.expiresIn,
                          refreshToken: refresh.token, sessionExpiresAt: session.expiresAt)
    }

    /// Records a new session of `user` (with its first refresh token, for API clients) and the
    /// login event; clears the user's failed attempts. Returns the session's id and end.
    func createSession(for user: UserRow, in scope: TenantScope, by actor: AuditActor, now: Date,
                       refreshTokenHash: String?) async throws -> (id: String, expiresAt: String) {
        let audit = self.audit
        let userAgent = actor.userAgent, client = actor.clientAddress
        let loggedIn = AuditActor(type: .user, id: user.id, name: user.name, clientAddress: client, userAgent: userAgent, requestID: actor.requestID)
        let sessionID = UUIDv7.id(at: now)
        let expiresAt = Timestamp.text(now.addingTimeInterval(settings.sessionMaximum.timeInterval))
        let nowText = Timestamp.text(now)
        let users = try scope.table("users"), sessions = try scope.table("sessions"), refreshTokens = try scope.table("refresh_tokens")
        try await scope.transaction { database in
            try await database.update(users).set("failed_attempts", to: 0).set("locked_until", to: SQLLiteral.null)
                .set("last_login_at", to: nowText).where("id", .equal, user.id).run()
            try await database.insert(into: sessions)
                .columns("id", "user_id", "created_at", "last_seen_at", "expires_at", "client_address", "user_agent")
                .values(SQLBind(sessionID), SQLBind(user.id), SQLBind(nowText), SQLBind(nowText), SQLBind(expiresAt),
                        SQLBind(client), SQLBind(userAgent.map { String($0.prefix(256)) }))
                .run()
            if let refreshTokenHash {
                try await database.insert(into: refreshTokens).columns("token_hash", "session_id", "created_at")
                    .values(SQLBind(refreshTokenHash), SQLBind(sessionID), SQLBind(nowText)).run()
            }
            try await audit.append(loggedIn.record("login", resourceType: "session", resourceID: sessionID), in: database, scope: scope)
        }
        return (sessionID, expiresAt)
    }

    // MARK: Refresh and logout

    private enum RefreshOutcome: Sendable {
        case rotated(userID: String, sessionID: String, expiresAt: String)
        case reused(sessionID: String)
        case invalid(String)
    }

    /// Exchanges a refresh token for new tokens. Each refresh token works once: presenting a
    /// used one means it was copied, so the whole session is revoked.
    package func refresh(_ token: String, by actor: AuditActor) async throws -> TokenGrant {
        let audit = self.audit
        guard let slug = RefreshToken.tenant(of: token), let scope = try await activeScopeOrNil(slug) else {
            throw IdentityError.unauthenticated("The refresh token is not valid.")
        }
        let hash = RefreshToken.hash(token)
        let next = RefreshToken.make(tenant: slug)
        let now = clock.now, nowText = Timestamp.text(now)
        let idle = settings.sessionIdleTimeout.timeInterval
        let users = try scope.table("users"), sessions = try scope.table("sessions"), refreshTokens = try scope.table("refresh_tokens")
        let outcome = try await scope.transaction { database -> RefreshOutcome in
            guard let row = try await database.select().columns("session_id", "used_at").from(refreshTokens)
                .where("token_hash", .equal, hash).first() else { return .invalid("The refresh token is not valid.") }
            let sessionID = try row.decode(column: "session_id", as: String.self)
            if try row.decode(column: "used_at", as: String?.self) != nil {
                try await database.update(sessions).set("revoked_at", to: nowText).set("revoked_reason", to: "refresh token reuse")
                    .where("id", .equal, sessionID).where("revoked_at", .is, SQLLiteral.null).run()
                try await audit.append(actor.record("refresh_reuse", resourceType: "session", resourceID: sessionID, outcome: .denied,
                                                    reason: "a rotated refresh token was presented again; session revoked"), in: database, scope: scope)
                return .reused(sessionID: sessionID)
            }
            guard let session = try await database.raw("""
                SELECT s.user_id, s.expires_at, s.last_seen_at, s.revoked_at, u.status
                FROM \(sessions) s JOIN \(users) u ON u.id = s.user_id WHERE s.id = \(bind: sessionID)
                """).first() else { return .invalid("The session has ended.") }
            let expiresAt = try session.decode(column: "expires_at", as: String.self)
            let lastSeen = try session.decode(column: "last_seen_at", as: String.self)
            guard try session.decode(column: "revoked_at", as: String?.self) == nil,
                  try session.decode(column: "status", as: String.self) == "active",
                  let expiry = Timestamp.date(expiresAt), expiry > now,
                  let seen = Timestamp.date(lastSeen), now.timeIntervalSince(seen) <= idle + Self.lastSeenWriteInterval
            else { return .invalid("The session has ended.") }
            try await database.update(refreshTokens).set("used_at", to: nowText).where("token_hash", .equal, hash).run()
            try await database.insert(into: refreshTokens).columns("token_hash", "session_id", "created_at")
                .values(SQLBind(next.hash), SQLBind(sessionID), SQLBind(nowText)).run()
            try await database.update(sessions).set("last_seen_at", to: nowText).where("id", .equal, sessionID).run()
            return .rotated(userID: try session.decode(column: "user_id", as: String.self), sessionID: sessionID, expiresAt: expiresAt)
        }
        switch outcome {
        case .invalid(let reason):
            throw IdentityError.unauthenticated(reason)
        case .reused(let sessionID):
            principals.evict(PrincipalCache.key(tenant: slug, session: sessionID))
            logger.warning("refresh token reused; session revoked", metadata: ["tenant_id": "\(slug)", "session_id": "\(sessionID)"])
            throw IdentityError.unauthenticated("The refresh token was already used; the session has been revoked.")
        case .rotated(let userID, let sessionID, let expiresAt):
            principals.touch(PrincipalCache.key(tenant: slug, session: sessionID), at: now)
            let access = try await tokens.issue(user: userID, tenant: slug, session: sessionID, now: now)
            return TokenGrant(accessToken: access.token, tokenType: "Bearer", expiresIn: access.expiresIn,
                              refreshToken: next.token, sessionExpiresAt: expiresAt)
        }
    }

    /// Ends the principal's session: its access and refresh tokens stop working.
    package func logout(_ principal: Principal, by actor: AuditActor) async throws {
        let scope = try await tenants.activeScope(slug: principal.tenant)
        let sessions = try scope.table("sessions")
        let audit = self.audit
        try await scope.transaction { database in
            try await database.update(sessions).set("revoked_at", to: Timestamp.text(clock.now)).set("revoked_reason", to: "logout")
                .where("id", .equal, principal.sessionID).where("revoked_at", .is, SQLLiteral.null).run()
            try await audit.append(actor.record("logout", resourceType: "session", resourceID: principal.sessionID), in: database, scope: scope)
        }
        principals.evict(PrincipalCache.key(tenant: principal.tenant, session: principal.sessionID))
    }

    // MARK: Authentication

    /// The principal behind a bearer access token, answered from memory while fresh. Throws
    /// `unauthenticated` for a bad, expired or revoked token or an ended session.
    package func principal(forAccessToken token: String) async throws -> Principal {
        let now = clock.now
        let claims: AccessTokenClaims
        if let known = verifiedTokens.withLock({ $0[token] }), known.exp.value > now {
            claims = known
        } else {
            do { claims = try await tokens.verify(token, now: now) } catch {
                throw IdentityError.unauthenticated("The access token is missing, malformed or expired.")
            }
            verifiedTokens.withLock { verified in
                if verified.count >= 50_000 { verified.removeAll(keepingCapacity: true) }
                verified[token] = claims
            }
        }
        return try await principal(tenant: claims.tenant, session: claims.sid, user: claims.sub.value, now: now)
    }

    /// The principal of session `session` of `user` in `tenant`, however the caller proved it
    /// (an access token, a web session cookie): the session must be live (not revoked, within
    /// its idle and absolute limits) and the user active. Answered from memory while fresh.
    func principal(tenant: String, session: String, user: String, now: Date) async throws -> Principal {
        let key = PrincipalCache.key(tenant: tenant, session: session)
        // What this session committed through this node must be visible to its reads.
        ReadConsistency.current?.attach(session: key)
        let idle = settings.sessionIdleTimeout.timeInterval
        let cached = principals.entry(key)
        if let cached, ContinuousClock.now - cached.loadedAt < PrincipalCache.freshness {
            guard now.timeIntervalSince(cached.lastSeen) <= idle else {
                principals.evict(key)
                throw IdentityError.unauthenticated("The session ended after a period without use.")
            }
            guard now < cached.principal.sessionExpiresAt else {
                principals.evict(key)
                throw IdentityError.unauthenticated("The session has expired.")
            }
            principals.touch(key, at: now)
            return cached.principal
        }
        // The user is part of what is reloaded: a session's requests all name the same one.
        return try await principals.reload(key + "/" + user) { [self] generation in
            try await reloadPrincipal(key: key, tenant: tenant, session: session, user: user, now: now, loadedIn: generation)
        }
    }

    /// Reads a session's principal afresh for `principal(tenant:session:user:now:)`, writes its
    /// last-seen time when that is due, and caches it.
    private func reloadPrincipal(key: String, tenant: String, session: String, user: String, now: Date, loadedIn generation: Int) async throws -> Principal {
        let cached = principals.entry(key)
        let idle = settings.sessionIdleTimeout.timeInterval
        let scope = try await tenants.activeScope(slug: tenant)
        guard let loaded = try await loadPrincipal(session: session, user: user, in: scope) else {
            principals.evict(key)
            throw IdentityError.unauthenticated("The session has ended.")
        }
        let lastSeen = max(loaded.lastSeen, cached?.lastSeen ?? .distantPast)
        guard now.timeIntervalSince(lastSeen) <= idle else {
            principals.evict(key)
            throw IdentityError.unauthenticated("The session ended after a period without use.")
        }
        var persisted = max(loaded.lastSeen, cached?.persistedLastSeen ?? .distantPast)
        if now.timeIntervalSince(persisted) >= Self.lastSeenWriteInterval {
            let sessions = try scope.table("sessions")
            let nowText = Timestamp.text(now)
            try await scope.transaction { database in
                try await database.update(sessions).set("last_seen_at", to: nowText).where("id", .equal, session).run()
            }
            persisted = now
        }
        principals.store(key, .init(principal: loaded.principal, loadedAt: .now, lastSeen: now, persistedLastSeen: persisted), loadedIn: generation)
        return loaded.principal
    }

    private func loadPrincipal(session: String, user: String, in scope: TenantScope) async throws -> (principal: Principal, lastSeen: Date)? {
        let sessions = try scope.table("sessions"), users = try scope.table("users")
        let userRoles = try scope.table("user_roles"), roles = try scope.table("roles"), rolePermissions = try scope.table("role_permissions")
        let now = clock.now
        // From the primary: a replica behind a logout or a revoked role would extend them.
        return try await scope.readPrimary { database in
            guard let row = try await database.raw("""
                SELECT s.expires_at, s.last_seen_at, s.revoked_at, u.name, u.email, u.status, u.totp_confirmed
                FROM \(sessions) s JOIN \(users) u ON u.id = s.user_id
                WHERE s.id = \(bind: session) AND s.user_id = \(bind: user)
                """).first(),
                try row.decode(column: "revoked_at", as: String?.self) == nil,
                try row.decode(column: "status", as: String.self) == "active",
                let expires = Timestamp.date(try row.decode(column: "expires_at", as: String.self)), expires > now,
                let lastSeen = Timestamp.date(try row.decode(column: "last_seen_at", as: String.self))
            else { return nil }
            var roleNames = Set<String>(), permissions = Set<String>()
            var secondFactorRequired = false
            for grant in try await database.raw("""
                SELECT r.id, r.name, r.requires_mfa, rp.permission FROM \(userRoles) ur
                JOIN \(roles) r ON r.id = ur.role_id
                LEFT JOIN \(rolePermissions) rp ON rp.role_id = r.id
                WHERE ur.user_id = \(bind: user)
                """).all() {
                roleNames.insert(try grant.decode(column: "name", as: String.self))
                if try grant.decode(column: "requires_mfa", as: Int.self) != 0,
                   try grant.decode(column: "id", as: String.self) != BuiltInRole.tenantAdmin.id || enforcesAdminSecondFactor {
                    secondFactorRequired = true
                }
                if let permission = try grant.decode(column: "permission", as: String?.self) { permissions.insert(permission) }
            }
            let secondFactorMissing = try secondFactorRequired && row.decode(column: "totp_confirmed", as: Int.self) == 0
            let principal = Principal(
                userID: user, tenant: scope.tenant.slug, sessionID: session, displayName: try row.decode(column: "name", as: String.self),
                email: try row.decode(column: "email", as: String.self), roles: roleNames.sorted(),
                permissions: secondFactorMissing ? [] : permissions, sessionExpiresAt: expires, secondFactorMissing: secondFactorMissing
            )
            return (principal, lastSeen)
        }
    }
}

/// A user row as the service reads it.
struct UserRow: Codable, Sendable {
    var id: String
    var email: String
    var name: String
    var status: String
    var passwordHash: String?
    var failedAttempts: Int
    var lockedUntil: String?
    var lastLoginAt: String?
    var createdAt: String
    var totpSecret: String?
    var totpConfirmed: Int
    var totpLastStep: Int

    enum CodingKeys: String, CodingKey {
        case id, email, name, status
        case passwordHash = "password_hash", failedAttempts = "failed_attempts", lockedUntil = "locked_until"
        case lastLoginAt = "last_login_at", createdAt = "created_at"
        case totpSecret = "totp_secret", totpConfirmed = "totp_confirmed", totpLastStep = "totp_last_step"
    }

    static let columns = [
        "id", "email", "name", "status", "password_hash", "failed_attempts", "locked_until", "last_login_at", "created_at",
        "totp_secret", "totp_confirmed", "totp_last_step",
    ]
}

/// Refresh tokens: `<tenant>.<32 random bytes, base64url>`. Only a SHA-256 of the token is
/// stored, so a copy of the database cannot be used to refresh.
enum RefreshToken {
    static func make(tenant: String) -> (token: String, hash: String) {
        make(tenant: tenant, secret: (0..<32).map { _ in UInt8.random(in: .min ... .max) })
    }

    /// A token of `secret`'s 32 bytes.
    static func make(tenant: String, secret: some Sequence<UInt8>) -> (token: String, hash: String) {
        let text = Data(secret).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let token = tenant + "." + text
        return (token, hash(token))
    }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func tenant(of token: String) -> String? {
        let parts = token.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, parts[1].count >= 40, (try? TenantSlug(String(parts[0]))) != nil else { return nil }
        return String(parts[0])
    }
}
