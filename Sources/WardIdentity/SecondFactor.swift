package import OpenAPIKit
import Crypto
import Foundation
import HummingbirdOTP
import SQLKit
import WardCore
package import WardHTTP
package import WardStorage
package import WardAudit

/// TOTP second factor (RFC 6238: SHA-1, 6 digits, 30-second steps, as authenticator apps
/// expect) with single-use recovery codes.
extension IdentityService {
    /// What enrolment answers: the seed for the authenticator app.
    package struct Enrolment: Codable, Sendable, APIResponseBody {
        package static var schemaName: String { "TOTPEnrolment" }
        package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["secret": .string(description: "base32")] }
        package let secret: String
        package let otpauthURI: String
        enum CodingKeys: String, CodingKey { case secret, otpauthURI = "otpauth_uri" }
    }

    static let recoveryCodeCount = 10

    /// Starts (or restarts) enrolment: a new seed, stored sealed and not yet required.
    package func enrolSecondFactor(for principal: Principal, in scope: TenantScope, by actor: AuditActor) async throws -> Enrolment {
        let audit = self.audit
        let users = try scope.table("users")
        let current = try await scope.read { database in
            try await database.select().column("totp_confirmed").from(users).where("id", .equal, principal.userID).first()
        }
        if try current?.decode(column: "totp_confirmed", as: Int.self) == 1 { throw IdentityError.secondFactorAlreadyEnrolled }
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        let seed = String((0..<32).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
        let sealed = try secretBox.seal(seed)
        try await scope.transaction { database in
            try await database.update(users).set("totp_secret", to: sealed).set("totp_confirmed", to: 0).set("totp_last_step", to: 0)
                .set("updated_at", to: Timestamp.now()).where("id", .equal, principal.userID).run()
            try await audit.append(actor.record("mfa_enrol", resourceType: "user", resourceID: principal.userID), in: database, scope: scope)
        }
        let totp = TOTP(secret: seed)
        let uri = totp.createAuthenticatorURL(label: "\(scope.tenant.slug):\(principal.email)", issuer: "Ward")
        let base32 = URLComponents(string: uri)?.queryItems?.first { $0.name == "secret" }?.value ?? ""
        return Enrolment(secret: base32, otpauthURI: uri)
    }

    /// Confirms enrolment with a current code; from then on logins need a code. Returns the
    /// recovery codes, shown this once and stored only as hashes.
    package func confirmSecondFactor(code: String, for principal: Principal, in scope: TenantScope, by actor: AuditActor) async throws -> [String] {
        let audit = self.audit
        let users = try scope.table("users"), recovery = try scope.table("recovery_codes")
        guard let user = try await scope.read({ database in
            try await database.select().columns(UserRow.columns).from(users).where("id", .equal, principal.userID).first(decoding: UserRow.self)
        }), user.totpSecret != nil, user.totpConfirmed == 0 else { throw IdentityError.secondFactorNotStarted }
        guard let step = matchingStep(code, for: user) else {
            throw IdentityError.invalidInput([.init(field: "code", message: "is not the current code of the authenticator app")])
        }
        let codes = (0..<Self.recoveryCodeCount).map { _ in Self.makeRecoveryCode() }
        try await scope.transaction { database in
            try await database.update(users).set("totp_confirmed", to: 1).set("totp_last_step", to: step)
                .set("updated_at", to: Timestamp.now()).where("id", .equal, user.id).run()
            try await database.delete(from: recovery).where("user_id", .equal, user.id).run()
            for code in codes {
                try await database.insert(into: recovery).columns("user_id", "code_hash").values(SQLBind(user.id), SQLBind(Self.hashCode(code))).run()
            }
            try await audit.append(actor.record("mfa_confirm", resourceType: "user", resourceID: user.id), in: database, scope: scope)
        }
        principals.evict(tenant: scope.tenant.slug, user: user.id)
        return codes
    }

    /// Whether `code` is a fresh TOTP code or an unused recovery code of `user`; consumes it.
    func acceptSecondFactor(_ code: String, of user: UserRow, in scope: TenantScope) async throws -> Bool {
        let users = try scope.table("users"), recovery = try scope.table("recovery_codes")
        if let step = matchingStep(code, for: user) {
            // Conditional on the last step, so one code is accepted once even by racing logins.
            return try await scope.transaction { database in
                try await database.raw("""
                    UPDATE \(users) SET totp_last_step = \(bind: step) WHERE id = \(bind: user.id) AND totp_last_step < \(bind: step)
                    """).run()
                let row = try await database.select().column("totp_last_step").from(users).where("id", .equal, user.id).first()
                return try row?.decode(column: "totp_last_step", as: Int.self) == step
            }
        }
        let hash = Self.hashCode(code.uppercased().filter { $0.isLetter || $0.isNumber })
        let now = Timestamp.now()
        return try await scope.transaction { database in
            guard try await database.select().column("code_hash").from(recovery).where("user_id", .equal, user.id)
                .where("code_hash", .equal, hash).where("used_at", .is, SQLLiteral.null).first() != nil else { return false }
            try await database.update(recovery).set("used_at", to: now).where("user_id", .equal, user.id).where("code_hash", .equal, hash).run()
            return true
        }
    }

    /// The time step `code` matches (now, or one step either side for clock drift), if it is
    /// newer than the last accepted one.
    private func matchingStep(_ code: String, for user: UserRow) -> Int? {
        guard code.count == 6, let number = Int(code), let sealed = user.totpSecret, let seed = secretBox.open(sealed) else { return nil }
        let totp = TOTP(secret: seed)
        let now = Date()
        let current = Int(now.timeIntervalSince1970) / 30
        for offset in [0, -1, 1] where current + offset > user.totpLastStep {
            if totp.compute(date: now.addingTimeInterval(TimeInterval(offset * 30))) == number { return current + offset }
        }
        return nil
    }

    static func makeRecoveryCode() -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        let characters = (0..<10).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] }
        return String(characters[0..<5]) + "-" + String(characters[5...])
    }

    static func hashCode(_ code: String) -> String {
        let normalized = code.uppercased().filter { $0.isLetter || $0.isNumber }
        return SHA256.hash(data: Data(normalized.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
