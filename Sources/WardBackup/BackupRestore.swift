import Crypto
package import Foundation
import NIOCore
import SQLKit
import WardAudit
import WardCore
import WardClinical
import WardDocuments
package import WardStorage

extension Backups {
    /// Restores the tenants of backup `id` onto this node: `slug` alone (under `newSlug` if
    /// given), or every tenant of the backup under its own slug. Each is restored as a new
    /// tenant: the slug must be free here (an empty node, or a new slug beside the original),
    /// and the tenant gets a new id and document key, its documents sealed anew under them,
    /// so nothing of it is shared with the original. A backup taken at migrations this build
    /// does not know is refused. The database is brought to exactly the backup's migrations,
    /// loaded, then migrated to this build's; its audit head is witnessed as restored. A
    /// backup the node does not hold is downloaded from the bucket first (only the parts
    /// restored), into a temporary folder removed afterwards.
    /// Returns the tenants restored.
    @discardableResult
    package func restore(_ id: String, tenant slug: String? = nil, as newSlug: String? = nil) async throws -> [Tenant] {
        let (manifest, local) = try await self.manifest(id)
        guard try keys.verify(manifest) else { throw BackupError.damaged("\(id)/manifest.json was changed after the backup was made") }
        guard manifest.database == dialect else {
            throw BackupError.refused("backup \(id) is of a \(manifest.database) node; this node runs on \(dialect)")
        }
        let parts = manifest.parts.filter { slug == nil || $0.tenant.slug == slug }
        if let slug, parts.isEmpty { throw BackupError.notFound("tenant '\(slug)' in backup \(id)") }
        if newSlug != nil, slug == nil { throw BackupError.refused("--as needs --tenant: one tenant is restored under a new slug") }
        let known = Set(storage.tenants.migrations.migrations.map(\.version))
        for part in parts {
            let unknown = part.migrations.filter { !known.contains($0) }
            guard unknown.isEmpty else {
                throw BackupError.refused("backup \(id) was made by Ward \(manifest.wardVersion) with tenant migrations this build (Ward \(wardVersion)) does not know: \(unknown.map(String.init).joined(separator: ", ")); restore it with a build at least as new")
            }
        }
        for part in parts {
            if let taken = try await storage.tenants.fetch(slug: newSlug ?? part.tenant.slug) {
                throw BackupError.refused("the slug '\(taken.slug)' is taken on this node (\(taken.status.rawValue)); restore under a new one with --as")
            }
        }
        // Downloaded only once the restore is known to be allowed, and only the parts restored
        // (the control plane's with a whole node's).
        let wholeNode = slug == nil
        let files = try await files(of: manifest, local: local, parts: parts, platform: wholeNode)
        defer { files.discard() }
        // Every part whole before anything is restored: a damaged backup changes nothing here.
        for part in parts {
            guard try Self.checksum(of: files.path(part.file)) == part.sha256 else { throw BackupError.damaged("\(part.file) does not match its checksum") }
        }
        let administrators = try manifest.platform.flatMap { wholeNode ? try readPlatform($0, of: manifest, in: files.folder) : nil }
        var restored: [Tenant] = []
        for part in parts {
            restored.append(try await restore(part, of: manifest, from: files, as: newSlug ?? part.tenant.slug))
        }
        if let administrators { _ = try await restorePlatform(administrators) }
        return restored
    }

    private func restore(_ part: BackupManifest.Part, of manifest: BackupManifest, from files: BackupFiles, as slug: String) async throws -> Tenant {
        let reader = try BackupPartReader(path: files.path(part.file),
                                          key: try keys.partKey(part.sealedKey, keyID: manifest.keyID), context: "\(manifest.id)/\(part.file)")
        let tenant = try await storage.tenants.reserve(slug: slug, name: part.tenant.name, timeZone: part.tenant.timeZone, status: .provisioning)
        let tenantSlug = try TenantSlug(tenant.slug)
        do {
            try await storage.tenants.placeOnShard(tenant.slug)
            var sourceKey: SymmetricKey?
            var next = try nextEntry(reader)
            while let entry = next {
                next = nil
                switch entry.kind {
                case "tenant":
                    try skip(reader)
                case "sqlite":
                    guard case .sqliteFile(let path) = try await storage.tenants.placement(of: tenantSlug) else {
                        throw BackupError.refused("a SQLite backup restores onto a SQLite node")
                    }
                    let scratch = path + ".restoring"
                    try await receive(reader, into: scratch)
                    let integrity = try await SQLiteFileCopy.integrityCheck(scratch)
                    guard integrity == ["ok"] else {
                        try? FileManager.default.removeItem(atPath: scratch)
                        throw BackupError.damaged("the database of \(part.tenant.slug) fails its integrity check")
                    }
                    try TenantDirectory.installSQLiteFile(scratch, at: path)
                case "table":
                    let loader = try await DatabaseLoader(storage: storage, tenant: tenant, slug: tenantSlug, migrations: Set(part.migrations))
                    next = try await loader.load(first: entry, from: reader)
                    continue
                case "key":
                    guard case .data(let bytes) = try reader.next(), bytes.count == 32, try reader.next() == .end else {
                        throw BackupError.damaged("the document key of \(part.tenant.slug) is malformed")
                    }
                    sourceKey = SymmetricKey(data: bytes)
                case "object":
                    guard let sourceKey, let documents else { throw BackupError.refused("documents need the documents module and their tenant's key") }
                    try await reseal(entry.name, from: reader, sourceKey: sourceKey, source: part.tenant.id, into: tenant, documents: documents)
                default:
                    throw BackupError.damaged("unknown entry kind \(entry.kind)")
                }
                next = try nextEntry(reader)
            }
            guard reader.digest() == part.sha256 else { throw BackupError.damaged("\(part.file) does not match its checksum") }
            // Migrations the backup did not have yet; patients' fields sealed under the new
            // tenant's own key; then the tenant's status as it was.
            try await storage.tenants.migrate(tenant)
            let scope = try await storage.tenants.scope(for: tenant)
            if let sourceKey {
                try await PatientProtection.reseal(in: scope, from: FieldKeys(dataKey: sourceKey), to: FieldKeys(dataKey: try await tenantKeys.key(for: tenant.id)))
            }
            try await AuditWitness(storage: storage).recordNewest(in: scope)
            let status: Tenant.Status = part.tenant.status == Tenant.Status.suspended.rawValue ? .suspended : .active
            let restored = try await storage.tenants.setStatus(tenant.slug, status)
            logger.notice("tenant restored from backup", metadata: [
                "tenant_id": "\(tenant.slug)", "backup_id": "\(manifest.id)", "from_tenant": "\(part.tenant.slug)",
            ])
            return restored
        } catch {
            let reason = PostgresSchemaCopy.describe(error)
            logger.error("restore failed; removing what was restored", metadata: ["tenant_id": "\(tenant.slug)", "error": "\(reason)"])
            await storage.tenants.removeDatabase(of: tenantSlug)
            if let documents { _ = try? await documents.store.deleteAll(prefix: PatientDocuments.prefix(of: tenant)) }
            try? await tenantKeys.destroy(tenant.id)
            _ = try? await storage.tenants.update(tenant.slug, status: .failed, lastError: .some("restore from backup \(manifest.id) failed: \(reason)"))
            if error is BackupError { throw error }
            throw BackupError.io("restoring \(part.tenant.slug) as \(tenant.slug) failed: \(reason); the tenant is left failed and its slug reserved")
        }
    }

    /// The SHA-256 (hex) of the file at `path`, read a megabyte at a time.
    static func checksum(of path: String) throws -> String {
        guard let file = FileHandle(forReadingAtPath: path) else { throw BackupError.notFound(path) }
        defer { try? file.close() }
        var hasher = SHA256()
        while let chunk = try file.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return BackupKeys.hex(hasher.finalize())
    }

    private func nextEntry(_ reader: BackupPartReader) throws -> BackupEntry? {
        switch try reader.next() {
        case .begin(let entry): return entry
        case nil: return nil
        default: throw BackupError.damaged("a record outside an entry")
        }
    }

    private func skip(_ reader: BackupPartReader) throws {
        while let record = try reader.next(), record != .end {}
    }

    private func receive(_ reader: BackupPartReader, into path: String) async throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
              let file = FileHandle(forWritingAtPath: path) else { throw BackupError.io("cannot create \(path)") }
        defer { try? file.close() }
        while let record = try reader.next() {
            switch record {
            case .data(let bytes): try file.write(contentsOf: bytes)
            case .end:
                try file.synchronize()
                return
            case .begin: throw BackupError.damaged("an entry inside an entry")
            }
        }
        throw BackupError.damaged("the database entry is cut short")
    }

    /// Opens a document sealed for the original tenant and seals it for the restored one, under
    /// its own key and object key, then points the document's row at it.
    private func reseal(_ objectKey: String, from reader: BackupPartReader, sourceKey: SymmetricKey, source: String, into tenant: Tenant,
                        documents: PatientDocuments) async throws {
        var sealed = ByteBuffer()
        while let record = try reader.next(), record != .end {
            guard case .data(let bytes) = record else { throw BackupError.damaged("an entry inside an entry") }
            sealed.writeBytes(bytes)
        }
        let scope = try await storage.tenants.scope(for: tenant)
        let table = try scope.table("documents")
        guard let row = try await scope.read({ database in
            try await database.select().columns("id", "nonce", "key_generation", "size").from(table).where("object_key", .equal, objectKey).first()
        }) else { return }
        let documentID = try row.decode(column: "id", as: String.self)
        let size = try row.decode(column: "size", as: Int.self)
        guard let header = ChunkedCipher.Header(nonceHex: try row.decode(column: "nonce", as: String.self),
                                                keyGeneration: UInt32(try row.decode(column: "key_generation", as: Int.self))) else {
            throw BackupError.damaged("document \(documentID) has a malformed nonce")
        }
        let body = sealed.getSlice(at: ChunkedCipher.headerSize, length: max(0, sealed.readableBytes - ChunkedCipher.headerSize)) ?? ByteBuffer()
        let plaintext = ChunkedCipher.opening(.of(body), header: header, objectKey: objectKey, key: sourceKey, plaintextSize: size, range: 0..<size)
        let newKey = PatientDocuments.prefix(of: tenant) + String(objectKey.dropFirst("tenants/\(source)/".count))
        let newHeader = ChunkedCipher.Header.fresh(keyGeneration: 1)
        _ = try await documents.store.put(newKey, body: ChunkedCipher.sealing(plaintext, header: newHeader,
                                                                             objectKey: newKey, key: try await documents.keys.key(for: tenant.id)))
        try await scope.transaction { database in
            try await database.update(table).set("object_key", to: newKey).set("nonce", to: newHeader.nonceHex).set("key_generation", to: 1)
                .where("id", .equal, documentID).run()
        }
    }
}

/// Loads a PostgreSQL copy into a tenant's new schema: the schema made and brought to the
/// copy's migrations, then, in one transaction with the tables' triggers off, each table's
/// rows in batches as they are read, the identity sequences moved past them, and the
/// triggers back on.
struct DatabaseLoader {
    private let database: any Database
    private let schema: String
    private let present: [String: PostgresSchemaCopy.Table]
    /// The schema's tables in load order.
    private let ordered: [PostgresSchemaCopy.Table]
    static let batch = 500

    init(storage: Storage, tenant: Tenant, slug: TenantSlug, migrations: Set<Int>) async throws {
        guard case .postgresSchema(let database, let schema) = try await storage.tenants.placement(of: slug) else {
            throw BackupError.refused("a PostgreSQL backup restores onto a PostgreSQL node")
        }
        self.database = database
        self.schema = schema
        try await storage.tenants.createDatabase(for: tenant)
        try await Migrator(storage.tenants.migrations, on: try await storage.tenants.migrationTarget(for: tenant)).apply(only: migrations)
        let tables = try await database.read { database in try await PostgresSchemaCopy.tables(of: schema, in: database) }
        present = Dictionary(uniqueKeysWithValues: tables.map { ($0.name, $0) })
        ordered = tables
    }

    /// Loads `first` and the table entries that follow it; returns the entry after them, if any.
    func load(first: BackupEntry, from reader: BackupPartReader) async throws -> BackupEntry? {
        let source = UncheckedBox(reader), schema = self.schema, present = self.present, ordered = self.ordered
        return try await database.transaction { database in
            let reader = source.value
            try await PostgresSchemaCopy.setTriggers(false, schema: schema, in: database)
            // What the migrations seeded (counters, catalogues) is in the copy as it stood.
            for table in ordered.reversed() { try await PostgresSchemaCopy.empty(table, schema: schema, in: database) }
            var entry: BackupEntry? = first
            while let current = entry, current.kind == "table" {
                guard let target = present[current.name] else { throw BackupError.damaged("the copy has table \(current.name), which its migrations do not make") }
                let table = PostgresSchemaCopy.Table(name: current.name, columns: current.columns ?? [])
                var rows: [String] = []
                while let record = try reader.next(), record != .end {
                    guard case .data(let bytes) = record else { throw BackupError.damaged("an entry inside an entry") }
                    rows.append(String(decoding: bytes, as: UTF8.self))
                    if rows.count == Self.batch {
                        try await PostgresSchemaCopy.load(rows, into: table, schema: schema, present: target, in: database)
                        rows.removeAll(keepingCapacity: true)
                    }
                }
                try await PostgresSchemaCopy.load(rows, into: table, schema: schema, present: target, in: database)
                switch try reader.next() {
                case .begin(let following): entry = following
                case nil: entry = nil
                default: throw BackupError.damaged("a record outside an entry")
                }
            }
            try await PostgresSchemaCopy.resetSequences(of: schema, in: database)
            try await PostgresSchemaCopy.setTriggers(true, schema: schema, in: database)
            return entry
        }
    }
}
