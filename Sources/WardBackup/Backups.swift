package import Foundation
package import Logging
import NIOCore
import SQLKit
import Synchronization
package import WardAudit
package import WardCore
package import WardDocuments
package import WardStorage

/// Backups of tenants: `create` (one tenant, or every live tenant of the node), `list`,
/// `verify`, `restore` and `prune`, into a directory (`WARD_BACKUP_URL`, a `file://` URL;
/// `<data dir>/backups` by default). A backup is a directory: `manifest.json` and a part per
/// tenant (`BackupPartWriter`), each holding the tenant's record, its database (SQLite: the file
/// through the online backup API; PostgreSQL: `PostgresSchemaCopy` of its schema, in one
/// snapshot) and its documents as the store holds them, with its document key, compressed and
/// sealed under a key of its own that the master key seals.
package struct Backups: Sendable {
    package let storage: Storage
    package let audit: AuditTrail
    package let documents: PatientDocuments?
    package let directory: URL
    package let keys: BackupKeys
    /// The tenants' data keys (documents and patient fields are sealed under them).
    let tenantKeys: TenantKeys
    package let wardVersion: String
    /// Days `prune` keeps backups by default (`WARD_BACKUP_RETENTION_DAYS`).
    package let retentionDays: Int
    let logger: Logger

    package init(storage: Storage, audit: AuditTrail, documents: PatientDocuments?, settings: WardSettings, wardVersion: String, logger: Logger) throws {
        self.storage = storage
        self.audit = audit
        self.documents = documents
        self.directory = try Self.directory(settings)
        self.keys = BackupKeys(secretKey: settings.secretKey ?? "", previousKeys: settings.auth.previousSecretKeys)
        self.tenantKeys = TenantKeys(storage: storage, settings: settings)
        self.wardVersion = wardVersion
        self.retentionDays = settings.backupRetentionDays
        self.logger = logger
    }

    /// Where backups go: `WARD_BACKUP_URL` (a `file://` directory) or `<data dir>/backups`.
    package static func directory(_ settings: WardSettings) throws -> URL {
        guard let text = settings.backupURL, !text.isEmpty else {
            return URL(fileURLWithPath: settings.dataDirectory).appendingPathComponent("backups")
        }
        guard let url = URL(string: text), url.scheme == "file", !url.path.isEmpty else {
            throw BackupError.refused("WARD_BACKUP_URL must be a file:// directory (got \(text))")
        }
        return URL(fileURLWithPath: url.path)
    }

    var dialect: String { storage.controlPlane.dialect == .postgres ? "postgres" : "sqlite" }

    // MARK: Creating

    /// Backs up `slug`, or every active and suspended tenant; returns the manifest written.
    package func create(tenant slug: String? = nil, now: Date = Date()) async throws -> BackupManifest {
        let all = try await storage.tenants.list()
        let chosen: [Tenant]
        if let slug {
            guard let tenant = all.first(where: { $0.slug == slug && [.active, .suspended].contains($0.status) }) else {
                throw BackupError.refused("no active or suspended tenant '\(slug)' to back up")
            }
            chosen = [tenant]
        } else {
            chosen = all.filter { [.active, .suspended].contains($0.status) }
        }
        let stamp = Self.stamp(now)
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let id = "\(stamp)-\(slug ?? "node")-\(suffix)"
        let folder = directory.appendingPathComponent(id)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        do {
            var manifest = BackupManifest(
                format: BackupManifest.currentFormat, id: id, createdAt: Timestamp.text(now), wardVersion: wardVersion, database: dialect,
                scope: slug == nil ? "node" : "tenant", keyID: try keys.current.id, parts: [], mac: ""
            )
            for tenant in chosen {
                manifest.parts.append(try await backUp(tenant, into: folder, backupID: id))
            }
            try keys.sign(&manifest)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            // Written last, by rename: a backup without its manifest is one that did not finish.
            let temporary = folder.appendingPathComponent("manifest.json.partial")
            try encoder.encode(manifest).write(to: temporary)
            try FileManager.default.moveItem(at: temporary, to: folder.appendingPathComponent("manifest.json"))
            logger.notice("backup created", metadata: ["backup_id": "\(id)", "tenants": "\(chosen.count)"])
            return manifest
        } catch {
            try? FileManager.default.removeItem(at: folder)
            if error is BackupError { throw error }
            throw BackupError.io("the backup failed: \(PostgresSchemaCopy.describe(error))")
        }
    }

    private func backUp(_ tenant: Tenant, into folder: URL, backupID: String) async throws -> BackupManifest.Part {
        let scope = try await storage.tenants.scope(for: tenant)
        // Reads audited up to now are in the trail before the copy is taken.
        try await audit.settle(scope)
        let file = "\(tenant.slug).part"
        let (partKey, sealedKey) = try keys.newPartKey()
        let writer = try BackupPartWriter(path: folder.appendingPathComponent(file).path, key: partKey, context: "\(backupID)/\(file)")
        let record = BackupManifest.TenantRecord(id: tenant.id, slug: tenant.slug, name: tenant.name, timeZone: tenant.timeZone, status: tenant.status.rawValue)
        try writer.begin(BackupEntry(kind: "tenant", name: tenant.slug))
        try writer.data(try JSONEncoder().encode(record))
        try writer.end()

        let copy: (migrations: [Int], head: BackupManifest.AuditHead?, rows: [String: Int])
        switch storage.tenants.placement(of: try TenantSlug(tenant.slug)) {
        case .sqliteFile(let path):
            copy = try await copySQLite(path, into: writer, scratch: folder.appendingPathComponent("\(tenant.slug).sqlite.partial").path)
        case .postgresSchema(let database, let schema):
            copy = try await copyPostgres(schema, of: database, into: writer)
        }

        var documentCount = 0
        // A tenant without a data key has nothing sealed: no documents, no patient fields.
        if let key = try await tenantKeys.existing(tenant.id) {
            try writer.begin(BackupEntry(kind: "key", name: tenant.id))
            try writer.data(key.withUnsafeBytes { Array($0) })
            try writer.end()
        }
        if let documents {
            // The objects the copy's rows name; one filed after the copy began is not in it.
            for objectKey in try await documentKeys(scope) {
                let body = try await documents.store.get(objectKey, range: nil)
                try writer.begin(BackupEntry(kind: "object", name: objectKey))
                for try await buffer in body { try writer.data(buffer.readableBytesView) }
                try writer.end()
                documentCount += 1
            }
        }
        let (sha256, bytes) = try writer.finish()
        return BackupManifest.Part(file: file, sha256: sha256, bytes: bytes, sealedKey: sealedKey, tenant: record, migrations: copy.migrations,
                                   auditHead: copy.head, rows: copy.rows, documents: documentCount)
    }

    private func copySQLite(_ path: String, into writer: BackupPartWriter, scratch: String) async throws
        -> (migrations: [Int], head: BackupManifest.AuditHead?, rows: [String: Int]) {
        try await SQLiteFileCopy.backup(from: path, to: scratch)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let migrations = try await SQLiteFileCopy.query(scratch, "SELECT version FROM ward_migrations ORDER BY version").compactMap { Int($0[0]) }
        let head = try await SQLiteFileCopy.query(scratch, "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").first.flatMap { row in
            Int64(row[0]).map { BackupManifest.AuditHead(seq: $0, hash: row[1]) }
        }
        let rows = try await SQLiteFileCopy.rowCounts(scratch).filter { $0.key != "ward_migrations" }
        try writer.begin(BackupEntry(kind: "sqlite", name: "database"))
        guard let file = FileHandle(forReadingAtPath: scratch) else { throw BackupError.io("cannot read \(scratch)") }
        defer { try? file.close() }
        while let chunk = try file.read(upToCount: BackupFormat.frameSize), !chunk.isEmpty { try writer.data(chunk) }
        try writer.end()
        return (migrations, head, rows)
    }

    private func copyPostgres(_ schema: String, of database: any Database, into writer: BackupPartWriter) async throws
        -> (migrations: [Int], head: BackupManifest.AuditHead?, rows: [String: Int]) {
        // The writer is used by this task only, through the row callback as well.
        let sink = UncheckedBox(writer)
        let counts = Mutex<[String: Int]>([:])
        return try await database.transaction { database in
            let current = Mutex("")
            try await PostgresSchemaCopy.read(schema, in: database, table: { table in
                if !current.withLock({ $0 }).isEmpty { try sink.value.end() }
                current.withLock { $0 = table.name }
                counts.withLock { $0[table.name] = 0 }
                try sink.value.begin(BackupEntry(kind: "table", name: table.name, columns: table.columns))
            }, row: { row in
                try sink.value.data(Array(row.utf8))
                let name = current.withLock { $0 }
                counts.withLock { $0[name, default: 0] += 1 }
            })
            if !current.withLock({ $0 }).isEmpty { try sink.value.end() }
            let schemaName = try SQLIdentifierName.validated(schema)
            let migrations = try await database.raw("SELECT version FROM \(ident: schemaName).ward_migrations ORDER BY version").all()
                .map { try $0.decode(column: "version", as: Int.self) }
            let head = try await database.raw("SELECT seq, hash FROM \(ident: schemaName).audit_events ORDER BY seq DESC LIMIT 1").first().map {
                BackupManifest.AuditHead(seq: try $0.decode(column: "seq", as: Int64.self), hash: try $0.decode(column: "hash", as: String.self))
            }
            return (migrations, head, counts.withLock { $0 })
        }
    }

    private func documentKeys(_ scope: TenantScope) async throws -> [String] {
        let table = try scope.table("documents")
        return try await scope.read { database in
            try await database.select().column("object_key").from(table).orderBy("object_key").all().map { try $0.decode(column: "object_key", as: String.self) }
        }
    }

    // MARK: Listing

    /// Every finished backup in the directory, newest first.
    package func list() throws -> [BackupManifest] {
        Self.list(in: directory)
    }

    /// Every finished backup in `directory`, newest first (manifests as written, unverified).
    package static func list(in directory: URL) -> [BackupManifest] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        return names.compactMap { name in
            FileManager.default.contents(atPath: directory.appendingPathComponent(name).appendingPathComponent("manifest.json").path)
                .flatMap { try? JSONDecoder().decode(BackupManifest.self, from: $0) }
        }.sorted { $0.createdAt > $1.createdAt }
    }

    /// The manifest of backup `id`, as written (not yet verified).
    package func manifest(_ id: String) throws -> BackupManifest {
        guard !id.contains("/"), !id.hasPrefix(".") else { throw BackupError.notFound(id) }
        let file = directory.appendingPathComponent(id).appendingPathComponent("manifest.json")
        guard let data = FileManager.default.contents(atPath: file.path) else { throw BackupError.notFound(id) }
        do {
            return try JSONDecoder().decode(BackupManifest.self, from: data)
        } catch {
            throw BackupError.damaged("\(id)/manifest.json does not parse")
        }
    }

    // MARK: Verifying

    /// What `verify` found of one part.
    package struct PartCheck: Sendable, Equatable {
        package var slug: String
        package var problem: String?
    }

    /// Checks backup `id` end to end without restoring it: the manifest's MAC, each part's
    /// checksum, every frame's authentication and inflation, a SQLite copy's integrity check,
    /// and each table's row count and the number of documents against the manifest.
    package func verify(_ id: String) async throws -> [PartCheck] {
        let manifest = try manifest(id)
        guard try keys.verify(manifest) else { throw BackupError.damaged("\(id)/manifest.json was changed after the backup was made") }
        var checks: [PartCheck] = []
        for part in manifest.parts {
            do {
                try await check(part, of: manifest)
                checks.append(PartCheck(slug: part.tenant.slug, problem: nil))
            } catch let error as BackupError {
                checks.append(PartCheck(slug: part.tenant.slug, problem: error.description))
            }
        }
        return checks
    }

    private func check(_ part: BackupManifest.Part, of manifest: BackupManifest) async throws {
        let folder = directory.appendingPathComponent(manifest.id)
        guard try Self.checksum(of: folder.appendingPathComponent(part.file).path) == part.sha256 else {
            throw BackupError.damaged("\(part.file) does not match its checksum")
        }
        let reader = try BackupPartReader(path: folder.appendingPathComponent(part.file).path,
                                          key: try keys.partKey(part.sealedKey, keyID: manifest.keyID), context: "\(manifest.id)/\(part.file)")
        var rows: [String: Int] = [:], documents = 0, entry: BackupEntry?
        var database: FileHandle?
        let scratch = folder.appendingPathComponent("\(part.tenant.slug).verify.sqlite").path
        defer {
            try? database?.close()
            try? FileManager.default.removeItem(atPath: scratch)
        }
        while let record = try reader.next() {
            switch record {
            case .begin(let begun):
                entry = begun
                if begun.kind == "table" { rows[begun.name] = 0 }
                if begun.kind == "object" { documents += 1 }
                if begun.kind == "sqlite" {
                    FileManager.default.createFile(atPath: scratch, contents: nil, attributes: [.posixPermissions: 0o600])
                    database = FileHandle(forWritingAtPath: scratch)
                }
            case .data(let bytes):
                if entry?.kind == "table", let name = entry?.name { rows[name, default: 0] += 1 }
                if entry?.kind == "sqlite" { try database?.write(contentsOf: bytes) }
            case .end:
                entry = nil
            }
        }
        if let file = database {
            try file.close()
            database = nil
            let integrity = try await SQLiteFileCopy.integrityCheck(scratch)
            guard integrity == ["ok"] else { throw BackupError.damaged("the database of \(part.tenant.slug) fails its integrity check: \(integrity.prefix(3).joined(separator: "; "))") }
            rows = try await SQLiteFileCopy.rowCounts(scratch).filter { $0.key != "ward_migrations" }
        }
        guard rows == part.rows else { throw BackupError.damaged("the row counts of \(part.tenant.slug) differ from the manifest's") }
        guard documents == part.documents else { throw BackupError.damaged("\(part.tenant.slug) holds \(documents) documents, the manifest says \(part.documents)") }
    }

    // MARK: Pruning

    /// Removes backups made more than `days` ago, never the newest; returns the ids removed.
    @discardableResult
    package func prune(olderThan days: Int, now: Date = Date()) throws -> [String] {
        let cutoff = Timestamp.text(now.addingTimeInterval(-Double(days) * 86_400))
        let all = try list()
        var removed: [String] = []
        for manifest in all.dropFirst() where manifest.createdAt < cutoff {
            try FileManager.default.removeItem(at: directory.appendingPathComponent(manifest.id))
            removed.append(manifest.id)
        }
        // Folders of backups that never finished (no manifest) and are a day old.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where (try? manifest(name)) == nil {
            let folder = directory.appendingPathComponent(name)
            if let modified = (try? FileManager.default.attributesOfItem(atPath: folder.path))?[.modificationDate] as? Date,
               modified < now.addingTimeInterval(-86_400) {
                try? FileManager.default.removeItem(at: folder)
            }
        }
        if !removed.isEmpty { logger.notice("backups pruned", metadata: ["removed": "\(removed.count)", "days": "\(days)"]) }
        return removed
    }

    static func stamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }
}

/// A value used by one task at a time, across a `@Sendable` callback that the task awaits.
final class UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
