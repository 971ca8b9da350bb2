import Crypto
import Foundation
import JWTKit
import WardCore

/// The claims of a Ward access token: subject (user), tenant, session, expiry, and the
/// audience that tells tenant tokens from control-plane tokens.
struct AccessTokenClaims: JWTPayload, Equatable {
    var sub: SubjectClaim
    var tenant: String
    var sid: String
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim

    /// The audience of tokens for tenant routes.
    static let tenantAudience = "ward:tenant"
    /// The audience of control-plane administrators' tokens: no tenant route accepts them.
    static let platformAudience = "ward:platform"

    func verify(using algorithm: some JWTAlgorithm) throws {
        try exp.verifyNotExpired()
    }
}

/// Signs and verifies access tokens (HS256). Keys derive from `WARD_SECRET_KEY` and the earlier
/// keys in `WARD_SECRET_PREVIOUS_KEYS`; each has a key id so a rotated key still verifies the
/// tokens it signed until they expire.
struct AccessTokens: Sendable {
    private let keys: JWTKeyCollection
    private let currentKeyID: JWKIdentifier
    let lifetime: Duration
    /// The audience these tokens are issued for and the only one they accept.
    let audience: String

    private init(keys: JWTKeyCollection, currentKeyID: JWKIdentifier, lifetime: Duration, audience: String) {
        self.keys = keys
        self.currentKeyID = currentKeyID
        self.lifetime = lifetime
        self.audience = audience
    }

    /// Builds the key collection from the secret key and the earlier ones.
    static func make(secretKey: String, previousKeys: [String], lifetime: Duration, audience: String = AccessTokenClaims.tenantAudience) async -> AccessTokens {
        let keys = JWTKeyCollection()
        var currentKeyID: JWKIdentifier?
        for secret in [secretKey] + previousKeys where !secret.isEmpty {
            // A derived key per purpose: the raw secret may serve other uses later.
            let derived = HKDF<SHA256>.deriveKey(
                inputKeyMaterial: SymmetricKey(data: Data(secret.utf8)), info: Data("ward access token v1 \(audience)".utf8), outputByteCount: 32
            )
            let kid = JWKIdentifier(string: SHA256.hash(data: derived.withUnsafeBytes { Data($0) }).prefix(6).map { String(format: "%02x", $0) }.joined())
            await keys.add(hmac: HMACKey(key: derived), digestAlgorithm: .sha256, kid: kid)
            if currentKeyID == nil { currentKeyID = kid }
        }
        return AccessTokens(keys: keys, currentKeyID: currentKeyID!, lifetime: lifetime, audience: audience)
    }

    /// A signed token for `user` in `tenant` and `session`, and its lifetime in seconds.
    func issue(user: String, tenant: String, session: String, now: Date) async throws -> (token: String, expiresIn: Int) {
        let seconds = Int(lifetime.components.seconds)
        // Whole seconds (jwt-kit would otherwise write fractions); expiry rounds up so a token
        // lives at least its stated lifetime.
        let issued = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let expires = Date(timeIntervalSince1970: (now.timeIntervalSince1970 + lifetime.timeInterval).rounded(.up))
        let claims = AccessTokenClaims(
            sub: .init(value: user), tenant: tenant, sid: session, aud: .init(value: [audience]),
            exp: .init(value: expires), iat: .init(value: issued)
        )
        return (try await keys.sign(claims, kid: currentKeyID), seconds)
    }

    /// The claims of a valid token of this audience, unexpired at `now`; throws otherwise.
    func verify(_ token: String, now: Date) async throws -> AccessTokenClaims {
        let claims = try await keys.verify(token, as: AccessTokenClaims.self)
        try claims.aud.verifyIntendedAudience(includes: audience)
        try claims.exp.verifyNotExpired(currentDate: now)
        return claims
    }
}
