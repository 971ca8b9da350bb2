package import Crypto
package import Foundation

/// What a backup holds, kept beside its parts as `manifest.json`: readable without the key (for
/// `list`), authenticated with it (a changed manifest fails `verify`). It names tenants and
/// counts rows; it holds no patient data.
package struct BackupManifest: Codable, Sendable, Equatable {
    package static let currentFormat = 1

    package var format: Int
    package var id: String
    package var createdAt: String
    package var wardVersion: String
    /// `sqlite` or `postgres`: a part restores onto a node of the same kind.
    package var database: String
    /// `node` (every tenant) or `tenant`.
    package var scope: String
    /// Which master key sealed the parts' keys (a fingerprint, not the key).
    package var keyID: String
    package var parts: [Part]
    /// The control plane's own data (a node backup only; see `Backups.backUpPlatform`).
    package var platform: PlatformPart?
    /// HMAC-SHA256 of the manifest without this field, under the master key.
    package var mac: String

    package struct Part: Codable, Sendable, Equatable {
        package var file: String
        package var sha256: String
        package var bytes: Int
        /// The part's own data key, sealed under the master key.
        package var sealedKey: String
        package var tenant: TenantRecord
        /// The tenant migrations applied when the copy was taken.
        package var migrations: [Int]
        package var auditHead: AuditHead?
        /// Rows in each table of the copy.
        package var rows: [String: Int]
        package var documents: Int
    }

    package struct PlatformPart: Codable, Sendable, Equatable {
        package var file: String
        package var sha256: String
        package var bytes: Int
        package var sealedKey: String
        package var administrators: Int

        enum CodingKeys: String, CodingKey {
            case file, sha256, bytes, administrators
            case sealedKey = "sealed_key"
        }
    }

    /// Every file of the backup beside its manifest, with its size: the parts, then the
    /// control plane's.
    package var files: [(name: String, bytes: Int)] {
        parts.map { ($0.file, $0.bytes) } + (platform.map { [($0.file, $0.bytes)] } ?? [])
    }

    package struct TenantRecord: Codable, Sendable, Equatable {
        package var id: String
        package var slug: String
        package var name: String
        package var timeZone: String
        package var status: String
    }

    package struct AuditHead: Codable, Sendable, Equatable {
        package var seq: Int64
        package var hash: String
    }

    enum CodingKeys: String, CodingKey {
        case format, id, database, scope, parts, platform, mac
        case createdAt = "created_at", wardVersion = "ward_version", keyID = "key_id"
    }
}

extension BackupManifest.Part {
    enum CodingKeys: String, CodingKey {
        case file, sha256, bytes, tenant, migrations, rows, documents
        case sealedKey = "sealed_key", auditHead = "audit_head"
    }
}

extension BackupManifest.TenantRecord {
    enum CodingKeys: String, CodingKey {
        case id, slug, name, status
        case timeZone = "time_zone"
    }
}

/// The keys backups are sealed with, derived from the node's master key (`WARD_SECRET_KEY`)
/// and each earlier one (`WARD_SECRET_PREVIOUS_KEYS`): a backup restores on any node holding
/// the key it was made under, also after that key was rotated out of first place.
package struct BackupKeys: Sendable {
    struct Generation: Sendable {
        let id: String
        let sealing: SymmetricKey
        let signing: SymmetricKey
    }
    private let generations: [Generation]

    package init(secretKey: String, previousKeys: [String]) {
        generations = ([secretKey] + previousKeys).filter { !$0.isEmpty }.map { secret in
            let material = SymmetricKey(data: Data(secret.utf8))
            let sealing = HKDF<SHA256>.deriveKey(inputKeyMaterial: material, info: Data("ward backup v1 sealing".utf8), outputByteCount: 32)
            let signing = HKDF<SHA256>.deriveKey(inputKeyMaterial: material, info: Data("ward backup v1 manifest".utf8), outputByteCount: 32)
            let id = HMAC<SHA256>.authenticationCode(for: Data("ward backup key id".utf8), using: signing).prefix(8).map { String(format: "%02x", $0) }.joined()
            return Generation(id: id, sealing: sealing, signing: signing)
        }
    }

    var current: Generation {
        get throws {
            guard let first = generations.first else { throw BackupError.refused("no master key: set WARD_SECRET_KEY") }
            return first
        }
    }

    func generation(_ id: String) throws -> Generation {
        guard let found = generations.first(where: { $0.id == id }) else {
            throw BackupError.refused("the backup was made under a master key this node does not hold (key \(id)); set WARD_SECRET_KEY or WARD_SECRET_PREVIOUS_KEYS to it")
        }
        return found
    }

    /// Signs `manifest` (its `mac` is set).
    package func sign(_ manifest: inout BackupManifest) throws {
        manifest.mac = ""
        manifest.mac = Self.hex(HMAC<SHA256>.authenticationCode(for: try Self.canonical(manifest), using: try generation(manifest.keyID).signing))
    }

    /// Whether `manifest` carries the MAC its key gives it.
    func verify(_ manifest: BackupManifest) throws -> Bool {
        var unsigned = manifest
        unsigned.mac = ""
        let expected = HMAC<SHA256>.authenticationCode(for: try Self.canonical(unsigned), using: try generation(manifest.keyID).signing)
        return Self.hex(expected) == manifest.mac
    }

    /// A fresh data key for a part, and it sealed under the current master key.
    func newPartKey() throws -> (key: SymmetricKey, sealed: String) {
        let key = SymmetricKey(size: .bits256)
        let sealed = try ChaChaPoly.seal(key.withUnsafeBytes { Data($0) }, using: try current.sealing).combined.base64EncodedString()
        return (key, sealed)
    }

    /// A part's data key, opened with the master key of `keyID`.
    func partKey(_ sealed: String, keyID: String) throws -> SymmetricKey {
        guard let data = Data(base64Encoded: sealed), let box = try? ChaChaPoly.SealedBox(combined: data),
              let key = try? ChaChaPoly.open(box, using: try generation(keyID).sealing), key.count == 32 else {
            throw BackupError.damaged("a part's key does not open")
        }
        return SymmetricKey(data: key)
    }

    static func canonical(_ manifest: BackupManifest) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(manifest)
    }

    static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
