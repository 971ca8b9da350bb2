import Crypto
import Foundation

/// Encrypts small secrets kept in the database (TOTP seeds, one-time links waiting in the
/// outbox) with a key derived from `WARD_SECRET_KEY` for one purpose, so a copy of the database
/// alone does not give them away. Earlier keys still open what they sealed.
package struct SecretBox: Sendable {
    private let keys: [SymmetricKey]

    /// The purpose of second-factor seeds (the derivation TOTP seeds were first sealed with).
    package static let secondFactorPurpose = "ward totp seed v1"

    package init(secretKey: String, previousKeys: [String], purpose: String = SecretBox.secondFactorPurpose) {
        keys = ([secretKey] + previousKeys).filter { !$0.isEmpty }.map { secret in
            HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Data(secret.utf8)), info: Data(purpose.utf8), outputByteCount: 32)
        }
    }

    package func seal(_ plaintext: String) throws -> String {
        guard let key = keys.first else { throw Missing() }
        return try ChaChaPoly.seal(Data(plaintext.utf8), using: key).combined.base64EncodedString()
    }

    /// Sealing needs a secret key; a node always resolves one before it starts.
    struct Missing: Error, CustomStringConvertible {
        var description: String { "no secret key to seal with" }
    }

    /// Which key opens `sealed`: 0 the current one, n the nth previous; nil when none does.
    package func keyIndex(opening sealed: String) -> Int? {
        guard let data = Data(base64Encoded: sealed), let box = try? ChaChaPoly.SealedBox(combined: data) else { return nil }
        return keys.firstIndex { (try? ChaChaPoly.open(box, using: $0)) != nil }
    }

    package func open(_ sealed: String) -> String? {
        guard let data = Data(base64Encoded: sealed), let box = try? ChaChaPoly.SealedBox(combined: data) else { return nil }
        for key in keys {
            if let plain = try? ChaChaPoly.open(box, using: key) { return String(decoding: plain, as: UTF8.self) }
        }
        return nil
    }
}
