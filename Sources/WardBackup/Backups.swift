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
///
/// With an `s3://` destination (`BackupBucket`) a backup is made in `<data dir>/backups` as
/// well, then uploaded; the node's copies are kept `retentionDays`, the bucket's
/// `remoteRetentionDays`. `list` shows both, and `verify` and `restore` read the node's copy
/// when it has one, else download the bucket's into a temporary folder first.
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
    /// The `s3://` destination, if backups go to one.
    package let bucket: BackupBucket?
    /// Days `prune` keeps backups in the bucket by default (`WARD_BACKUP_REMOTE_RETENTION_DAYS`).
    package let remoteRetentionDays: Int
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
        self.bucket = try BackupBucket.configured(settings)
        self.remoteRetentionDays = settings.backupRemoteRetentionDays
        self.logger = logger
    }

    /// Where backups are made: `WARD_BACKUP_URL` (a `file://` directory), else
    /// `<data dir>/backups` (also the staging directory of an `s3://` destination).
    package static func directory(_ settings: WardSettings) throws -> URL {
        let local = URL(fileURLWithPath: settings.dataDirectory).appendingPathComponent("backups")
        guard let text = settings.backupURL, !text.isEmpty else { return local }
        if text.hasPrefix("s3://") { return local }
        guard let url = URL(string: text), url.scheme == "file", !url.path.isEmpty else {
            throw BackupError.refused("WARD_BACKUP_URL must be a file:// directory or an s3:// location (got \(text))")
        }
        return URL(fileURLWithPath: url.path)
    }

    /// Whether `name` has the form of a backup id: `yyyyMMdd'T'HHmmss'Z'-<tenant or node>-<hex>`.
    package static func isBackupID(_ name: String) -> Bool {
        let characters = Array(name.utf8)
        guard characters.count > 19, characters[8] == UInt8(ascii: "T"), characters[15] == UInt8(ascii: "Z"), characters[16] == UInt8(ascii: "-") else {
            return false
        }
        let digits = characters[0..<8] + characters[9..<15]
        return digits.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            && characters[17...].allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-") }
    }

    var dialect: String { storage.controlPlane.dialect == .postgres ? "postgres" : "sqlite" }

    // MARK: Creating

    /// Backs up `slug`, or every active and suspended tenant, and uploads the backup when the
    /// destination is a bucket; returns the manifest written. A failed upload throws and leaves
    /// the node's copy, which the nightly job uploads on its next run.
    package func create(tenant slug: String? = nil, now: Date = Date()) async throws -> BackupManifest {
        let manifest = try await createLocally(tenant: slug, now: now)
        do {
            try await upload(manifest)
        } catch let error as BackupError {
            throw BackupError.io("\(error); backup \(manifest.id) stays in \(directory.path), and the nightly job uploads it on its next run")
        }
        return manifest
    }

    /// Backs up `slug`, or every active and suspended tenant, into the directory only.
    package func createLocally(tenant slug: String? = nil, now: Date = Date()) async throws -> BackupManifest {
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
            if slug == nil { manifest.platform = try await backUpPlatform(into: folder, backupID: id) }
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
        switch try await storage.tenants.placement(of: try TenantSlug(tenant.slug)) {
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

    /// A backup as `list` finds it: its manifest (as written, unverified) and where it is.
    package struct Listing: Sendable, Equatable {
        package var manifest: BackupManifest
        /// In the directory on the node's disk.
        package var local: Bool
        /// Whole in the bucket of an `s3://` destination.
        package var remote: Bool
        package var id: String { manifest.id }
    }

    /// Every finished backup, on the node's disk and in the bucket (one held in both is listed
    /// once), newest first.
    package func list() async throws -> [Listing] {
        try await listing().backups
    }

    /// The backups `list` gives, and what the bucket holds of each (`prune` removes by it).
    private func listing() async throws -> (backups: [Listing], held: [String: BackupBucket.Held]) {
        var found = Dictionary(uniqueKeysWithValues: Self.list(in: directory).map { ($0.id, Listing(manifest: $0, local: true, remote: false)) })
        guard let bucket else { return (found.values.sorted { $0.manifest.createdAt > $1.manifest.createdAt }, [:]) }
        let held = try await bucket.inventory()
        for (id, backup) in held where backup.isWhole {
            if found[id] != nil {
                found[id]?.remote = true
            } else if let manifest = try? await bucket.manifest(id), manifest.id == id {
                // Only those not on the node are read from the bucket: the same file either way.
                found[id] = Listing(manifest: manifest, local: false, remote: true)
            }
        }
        return (found.values.sorted { $0.manifest.createdAt > $1.manifest.createdAt }, held)
    }

    /// Every finished backup in `directory`, newest first (manifests as written, unverified).
    package static func list(in directory: URL) -> [BackupManifest] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        return names.compactMap { name in
            FileManager.default.contents(atPath: directory.appendingPathComponent(name).appendingPathComponent("manifest.json").path)
                .flatMap { try? JSONDecoder().decode(BackupManifest.self, from: $0) }
        }.sorted { $0.createdAt > $1.createdAt }
    }

    /// The manifest of backup `id` in the directory, as written (not yet verified), or nil.
    func localManifest(_ id: String) throws -> BackupManifest? {
        guard !id.contains("/"), !id.hasPrefix(".") else { throw BackupError.notFound(id) }
        let file = directory.appendingPathComponent(id).appendingPathComponent("manifest.json")
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        do {
            return try JSONDecoder().decode(BackupManifest.self, from: data)
        } catch {
            throw BackupError.damaged("\(id)/manifest.json does not parse")
        }
    }

    /// The manifest of backup `id`, as written (not yet verified): the node's copy, else the
    /// bucket's (`remote: true` reads the bucket's in any case).
    package func manifest(_ id: String, remote: Bool = false) async throws -> (manifest: BackupManifest, local: Bool) {
        if remote, bucket == nil { throw BackupError.refused("backups go to a directory here: there is no bucket copy (WARD_BACKUP_URL is not s3://)") }
        if !remote, let manifest = try localManifest(id) { return (manifest, true) }
        guard let bucket, !id.contains("/"), !id.hasPrefix("."), let manifest = try await bucket.manifest(id) else { throw BackupError.notFound(id) }
        guard manifest.id == id else { throw BackupError.damaged("\(id)/manifest.json in \(bucket.location) names backup \(manifest.id)") }
        return (manifest, false)
    }

    /// A backup's files at hand: its folder in the directory, or a download of the bucket's
    /// copy into a folder of its own there (the disk that holds backups has room for one),
    /// removed by `discard`.
    struct BackupFiles {
        let folder: URL
        let isDownload: Bool

        func path(_ file: String) -> String { folder.appendingPathComponent(file).path }

        func discard() {
            if isDownload { try? FileManager.default.removeItem(at: folder) }
        }
    }

    /// The files of `parts` of `manifest` (and of its control plane's part, with `platform`):
    /// where they are, or downloaded from the bucket.
    func files(of manifest: BackupManifest, local: Bool, parts: [BackupManifest.Part], platform: Bool = false) async throws -> BackupFiles {
        if local { return BackupFiles(folder: directory.appendingPathComponent(manifest.id), isDownload: false) }
        guard let bucket else { throw BackupError.notFound(manifest.id) }
        // A dot name: not a backup to `list`, and `prune` clears one a crash left behind.
        let folder = directory.appendingPathComponent(".download-\(manifest.id)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let files = BackupFiles(folder: folder, isDownload: true)
        do {
            try await bucket.download(manifest.id, files: parts.map(\.file) + (platform ? manifest.platform.map { [$0.file] } ?? [] : []), into: folder)
        } catch {
            files.discard()
            throw error
        }
        logger.info("backup downloaded", metadata: ["backup_id": "\(manifest.id)", "from": "\(bucket.location)", "parts": "\(parts.count)"])
        return files
    }

    // MARK: Uploading

    /// Uploads backup `manifest` from the directory to the bucket (parts, then the manifest)
    /// and records beside it that it is there.
    package func upload(_ manifest: BackupManifest) async throws {
        guard let bucket else { return }
        try await bucket.upload(manifest, from: directory.appendingPathComponent(manifest.id))
        try recordUpload(manifest.id, to: bucket)
        logger.notice("backup uploaded", metadata: ["backup_id": "\(manifest.id)", "to": "\(bucket.location)"])
    }

    /// Uploads every backup on the node's disk that the bucket does not hold whole and that
    /// the remote retention would keep, newest first: tonight's, and any an earlier run made
    /// but could not upload. Returns the ids uploaded; the first failure throws.
    @discardableResult
    package func uploadPending(now: Date = Date()) async throws -> [String] {
        guard let bucket else { return [] }
        let cutoff = Timestamp.text(now.addingTimeInterval(-Double(remoteRetentionDays) * 86_400))
        let held = try await bucket.inventory()
        var uploaded: [String] = []
        for manifest in Self.list(in: directory) {
            if held[manifest.id]?.isWhole == true {
                if !Self.isUploaded(manifest.id, in: directory) { try recordUpload(manifest.id, to: bucket) }
                continue
            }
            guard manifest.createdAt >= cutoff else { continue }
            try await upload(manifest)
            uploaded.append(manifest.id)
        }
        return uploaded
    }

    /// Writes `uploaded.json` into the backup's folder. It is written beside the folder and
    /// moved in, so the directory's own time changes: the metrics' listing, which looks again
    /// only when that time moves, sees the upload.
    private func recordUpload(_ id: String, to bucket: BackupBucket) throws {
        let record = try JSONSerialization.data(withJSONObject: ["location": "\(bucket.location)/\(id)/", "uploaded_at": Timestamp.text(Date())], options: [.sortedKeys])
        let temporary = directory.appendingPathComponent(".\(id).uploaded.partial")
        try record.write(to: temporary)
        let target = directory.appendingPathComponent(id).appendingPathComponent(Self.uploadRecord)
        try? FileManager.default.removeItem(at: target)
        try FileManager.default.moveItem(at: temporary, to: target)
    }

    /// The file beside a backup's manifest that says its upload finished.
    static let uploadRecord = "uploaded.json"

    /// Whether backup `id` in `directory` was uploaded whole (its upload record is there).
    package static func isUploaded(_ id: String, in directory: URL) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent(id).appendingPathComponent(uploadRecord).path)
    }

    /// The newest backup at the destination as the node's disk tells it, without asking the
    /// bucket (for `/metrics`): the newest in the directory, or with a bucket the newest whose
    /// upload finished, so a backup that never left the node does not count as made.
    package func newestAtDestination() -> BackupManifest? {
        let local = Self.list(in: directory)
        guard bucket != nil else { return local.first }
        return local.first { Self.isUploaded($0.id, in: directory) }
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
    /// The node's copy is checked when it has one, else (or with `remote: true`) the bucket's,
    /// downloaded into a temporary folder that is removed afterwards.
    package func verify(_ id: String, remote: Bool = false) async throws -> [PartCheck] {
        let (manifest, local) = try await self.manifest(id, remote: remote)
        guard try keys.verify(manifest) else { throw BackupError.damaged("\(id)/manifest.json was changed after the backup was made") }
        let files = try await files(of: manifest, local: local, parts: manifest.parts, platform: true)
        defer { files.discard() }
        var checks: [PartCheck] = []
        for part in manifest.parts {
            do {
                try await check(part, of: manifest, in: files.folder)
                checks.append(PartCheck(slug: part.tenant.slug, problem: nil))
            } catch let error as BackupError {
                checks.append(PartCheck(slug: part.tenant.slug, problem: error.description))
            }
        }
        if let platform = manifest.platform {
            do {
                _ = try readPlatform(platform, of: manifest, in: files.folder)
                checks.append(PartCheck(slug: "platform", problem: nil))
            } catch let error as BackupError {
                checks.append(PartCheck(slug: "platform", problem: error.description))
            }
        }
        return checks
    }

    private func check(_ part: BackupManifest.Part, of manifest: BackupManifest, in folder: URL) async throws {
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

    /// What `prune` removed: from the node's disk, and from the bucket.
    package struct Pruned: Sendable, Equatable {
        package var local: [String] = []
        package var remote: [String] = []
    }

    /// Removes backups made more than `days` ago from the directory and, with a bucket, those
    /// made more than `remoteDays` ago (`remoteRetentionDays` by default) from it; never the
    /// newest of either. A backup the bucket lacks stays on the node until the remote
    /// retention passes too: its copy there is the only one.
    @discardableResult
    package func prune(olderThan days: Int, remoteOlderThan remoteDays: Int? = nil, now: Date = Date()) async throws -> Pruned {
        let cutoff = Timestamp.text(now.addingTimeInterval(-Double(days) * 86_400))
        let remoteCutoff = Timestamp.text(now.addingTimeInterval(-Double(remoteDays ?? remoteRetentionDays) * 86_400))
        let (all, held) = try await listing()
        var pruned = Pruned()
        for backup in all.filter(\.local).dropFirst() where backup.manifest.createdAt < cutoff {
            if bucket != nil, !backup.remote, backup.manifest.createdAt >= remoteCutoff { continue }
            try FileManager.default.removeItem(at: directory.appendingPathComponent(backup.id))
            pruned.local.append(backup.id)
        }
        // Folders of backups that never finished (no manifest), downloads and upload records a
        // crash left, a day old.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where (try? localManifest(name)) == nil {
            let folder = directory.appendingPathComponent(name)
            if let modified = (try? FileManager.default.attributesOfItem(atPath: folder.path))?[.modificationDate] as? Date,
               modified < now.addingTimeInterval(-86_400) {
                try? FileManager.default.removeItem(at: folder)
            }
        }
        if let bucket {
            for backup in all.filter(\.remote).dropFirst() where backup.manifest.createdAt < remoteCutoff {
                try await bucket.remove(backup.id, files: held[backup.id].map { Array($0.files.keys) } ?? [])
                pruned.remote.append(backup.id)
            }
            // Uploads cut short (no manifest), a day old: the node's copy, if it still has one,
            // goes up again whole.
            for (id, backup) in held where !backup.isWhole && (backup.newest ?? .distantPast) < now.addingTimeInterval(-86_400) {
                try await bucket.remove(id, files: backup.files.keys)
            }
        }
        if !pruned.local.isEmpty || !pruned.remote.isEmpty {
            logger.notice("backups pruned", metadata: ["removed": "\(pruned.local.count)", "removed_remote": "\(pruned.remote.count)", "days": "\(days)"])
        }
        return pruned
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
