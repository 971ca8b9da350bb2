package import Crypto
import Foundation

/// Short values sealed in a tenant's database under keys derived (HKDF) from its data key
/// (`TenantKeys`) for one purpose: one key seals (ChaCha20-Poly1305, `v1:` + base64, bound to a
/// context the caller names, such as a column and a row), one makes blind indexes (HMAC-SHA256,
/// the first 16 bytes in hex), which find equal values without revealing them. Patient fields
/// and patients' number plates are sealed with it, each under its own purpose.
package struct SealedText: Sendable {
    private let sealing: SymmetricKey
    private let indexing: SymmetricKey
    /// What begins a sealed value (the format's version).
    package static let prefix = "v1:"

    /// Keys for `purpose` (`patient fields`, `parking plates`): a purpose's values open under
    /// no other's keys.
    package init(dataKey: SymmetricKey, purpose: String) {
        sealing = HKDF<SHA256>.deriveKey(inputKeyMaterial: dataKey, info: Data("ward \(purpose) v1 sealing".utf8), outputByteCount: 32)
        indexing = HKDF<SHA256>.deriveKey(inputKeyMaterial: dataKey, info: Data("ward \(purpose) v1 blind index".utf8), outputByteCount: 32)
    }

    /// `value` sealed and bound to `context`.
    package func seal(_ value: String, context: String) throws -> String {
        let box = try ChaChaPoly.seal(Data(value.utf8), using: sealing, authenticating: Data(context.utf8))
        return Self.prefix + box.combined.base64EncodedString()
    }

    /// A sealed value opened, if it opens under this key and `context`: nil when it was changed,
    /// moved from another context or sealed under another key.
    package func open(_ stored: String, context: String) -> String? {
        guard stored.hasPrefix(Self.prefix), let data = Data(base64Encoded: String(stored.dropFirst(Self.prefix.count))),
              let box = try? ChaChaPoly.SealedBox(combined: data),
              let plain = try? ChaChaPoly.open(box, using: sealing, authenticating: Data(context.utf8)) else { return nil }
        return String(decoding: plain, as: UTF8.self)
    }

    /// The blind index of `message` (a normalised value, with what distinguishes its field).
    package func index(_ message: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: indexing).prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}
