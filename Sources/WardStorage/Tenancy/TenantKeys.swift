package import Crypto
package import Foundation
import SQLKit
import Synchronization
package import WardCore

/// Each tenant's data key: 32 random bytes made on first use, kept in the control plane only
/// wrapped by the node's master key (derived from `WARD_SECRET_KEY`; earlier keys still
/// unwrap, so the secret can be rotated and `rewrapAll` then moves every tenant onto the new
/// one without touching data). It seals the tenant's documents, its patients' identifying
/// fields (keys derived from it: `PatientProtection`) and its payment provider's keys.
/// Destroying it makes all of these unreadable wherever copies remain (crypto-shredding). The
/// table is the documents module's migration 600, where it began; migrations never move.
package final class TenantKeys: Sendable {
    fileprivate let database: any Database
    fileprivate let table: SQLQualifiedTable
    fileprivate let box: SecretBox
    private let cache = Mutex<[String: SymmetricKey]>([:])
    package static let purpose = "ward document keys v1"
    /// The generation new objects are sealed under (one data key per tenant so far).
    package static let generation: UInt32 = 1

    package init(storage: Storage, settings: WardSettings) {
        database = storage.controlPlane
        table = SQLQualifiedTable("document_keys", space: storage.controlPlaneTarget.schema)
        box = SecretBox(secretKey: settings.secretKey ?? "", previousKeys: settings.auth.previousSecretKeys, purpose: Self.purpose)
    }

    /// The tenant's data key, made and stored on first use (the first of two racing nodes wins).
    package func key(for tenantID: String) async throws -> SymmetricKey {
        if let key = cache.withLock({ $0[tenantID] }) { return key }
        if let key = try await stored(tenantID) { return remember(key, for: tenantID) }
        let fresh = SymmetricKey(size: .bits256)
        let wrapped = try box.seal(fresh.withUnsafeBytes { Data($0).base64EncodedString() })
        let table = self.table
        try await database.transaction { database in
            try await database.insert(into: table).columns("tenant_id", "generation", "wrapped", "created_at")
                .values(SQLBind(tenantID), SQLBind(Int(Self.generation)), SQLBind(wrapped), SQLBind(Timestamp.now()))
                .ignoringConflicts(with: ["tenant_id"]).run()
        }
        guard let key = try await stored(tenantID) else { throw KeyUnavailable(tenantID: tenantID) }
        return remember(key, for: tenantID)
    }

    private func remember(_ key: SymmetricKey, for tenantID: String) -> SymmetricKey {
        cache.withLock { $0[tenantID] = key }
        return key
    }

    private func stored(_ tenantID: String) async throws -> SymmetricKey? {
        let table = self.table
        guard let wrapped = try await database.read({ database in
            try await database.select().column("wrapped").from(table).where("tenant_id", .equal, tenantID).first()?.decode(column: "wrapped", as: String.self)
        }) else { return nil }
        guard let text = box.open(wrapped), let bytes = Data(base64Encoded: text), bytes.count == 32 else { throw KeyUnavailable(tenantID: tenantID) }
        return SymmetricKey(data: bytes)
    }

    /// The tenant's data key if it has one; nil (and none made) if it has not.
    package func existing(_ tenantID: String) async throws -> SymmetricKey? {
        if let key = cache.withLock({ $0[tenantID] }) { return key }
        return try await stored(tenantID).map { remember($0, for: tenantID) }
    }

    /// Whether the tenant has a data key.
    package func exists(_ tenantID: String) async throws -> Bool {
        let table = self.table
        return try await database.read { database in
            try await database.select().column("tenant_id").from(table).where("tenant_id", .equal, tenantID).first() != nil
        }
    }

    /// Destroys the tenant's key: whatever of its objects survives anywhere cannot be read.
    package func destroy(_ tenantID: String) async throws {
        let table = self.table
        try await database.transaction { database in
            try await database.delete(from: table).where("tenant_id", .equal, tenantID).run()
        }
        cache.withLock { $0[tenantID] = nil }
    }

    /// Wraps every tenant's key with the current master key (after `WARD_SECRET_KEY` changed
    /// and the old one moved to `WARD_SECRET_PREVIOUS_KEYS`); returns how many were rewrapped.
    /// Objects are untouched: their data keys do not change.
    package func rewrapAll() async throws -> Int {
        let table = self.table
        let rows = try await database.read { database in
            try await database.select().columns("tenant_id", "wrapped").from(table).all().map {
                (try $0.decode(column: "tenant_id", as: String.self), try $0.decode(column: "wrapped", as: String.self))
            }
        }
        var count = 0
        for (tenantID, wrapped) in rows {
            guard let plain = box.open(wrapped) else { throw KeyUnavailable(tenantID: tenantID) }
            let rewrapped = try box.seal(plain)
            try await database.transaction { database in
                try await database.update(table).set("wrapped", to: rewrapped).set("rewrapped_at", to: Timestamp.now())
                    .where("tenant_id", .equal, tenantID).where("wrapped", .equal, wrapped).run()
            }
            count += 1
        }
        return count
    }
}

extension TenantKeys {
    /// Each tenant's key and which master key wraps it: 0 the current one, n the nth previous,
    /// nil none this node holds.
    package func status() async throws -> [(tenantID: String, wrappedBy: Int?)] {
        let table = self.table, box = self.box
        return try await database.read { database in
            try await database.select().columns("tenant_id", "wrapped").from(table).orderBy("tenant_id").all().map {
                (try $0.decode(column: "tenant_id", as: String.self), box.keyIndex(opening: try $0.decode(column: "wrapped", as: String.self)))
            }
        }
    }
}

/// A tenant's data key cannot be unwrapped: the master key it was wrapped with is gone.
package struct KeyUnavailable: Error, CustomStringConvertible {
    package let tenantID: String
    package var description: String {
        "the data key of tenant \(tenantID) cannot be unwrapped with WARD_SECRET_KEY or WARD_SECRET_PREVIOUS_KEYS"
    }
}
