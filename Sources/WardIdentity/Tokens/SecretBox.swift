import Crypto
import Foundation

/// Encrypts small secrets kept in the database (TOTP seeds) with a key derived from
/// `WARD_SECRET_KEY`, so a copy of the database alone does not give away second factors.
/// Earlier keys still open what they sealed.
struct SecretBox: Sendable {
    private let keys: [SymmetricKey]

    init(secretKey: String, previousKeys: [String]) {
        keys = ([secretKey] + previousKeys).filter { !$0.isEmpty }.map { secret in
            HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Data(secret.utf8)), info: Data("ward totp seed v1".utf8), outputByteCount: 32)
        }
    }

    func seal(_ plaintext: String) throws -> String {
        try ChaChaPoly.seal(Data(plaintext.utf8), using: keys[0]).combined.base64EncodedString()
    }

    func open(_ sealed: String) -> String? {
        guard let data = Data(base64Encoded: sealed), let box = try? ChaChaPoly.SealedBox(combined: data) else { return nil }
        for key in keys {
            if let plain = try? ChaChaPoly.open(box, using: key) { return String(decoding: plain, as: UTF8.self) }
        }
        return nil
    }
}
