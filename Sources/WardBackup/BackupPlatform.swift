import Foundation
import SQLKit
import WardCore
import WardStorage

/// The control plane's own data in a node backup: the platform administrators, who run the
/// console (tenants, provisioning, backups). Restored onto a node that lacks them, so a node
/// rebuilt from a backup is administered as before without `ward admin create`. The rest of
/// the control plane is rebuilt rather than restored: tenants come back with their parts (under
/// new ids), jobs and sessions are transient, and shards and CORS lists are configuration.
extension Backups {
    static let platformFile = "platform.part"

    /// A platform administrator as the backup keeps one: who they are and their password's
    /// hash (sealed in the part like every other row); lockouts and last sign-in start afresh.
    struct AdministratorRecord: Codable, Equatable {
        var id: String
        var email: String
        var emailKey: String
        var name: String
        var status: String
        var passwordHash: String
        var createdAt: String
        var updatedAt: String

        enum CodingKeys: String, CodingKey {
            case id, email, name, status
            case emailKey = "email_key", passwordHash = "password_hash", createdAt = "created_at", updatedAt = "updated_at"
        }

        static let columns = ["id", "email", "email_key", "name", "status", "password_hash", "created_at", "updated_at"]
    }

    private var administrators: SQLQualifiedTable { SQLQualifiedTable("platform_admins", space: storage.controlPlaneTarget.schema) }

    /// Writes the control plane's part of a node backup.
    func backUpPlatform(into folder: URL, backupID: String) async throws -> BackupManifest.PlatformPart {
        let (partKey, sealedKey) = try keys.newPartKey()
        let writer = try BackupPartWriter(path: folder.appendingPathComponent(Self.platformFile).path, key: partKey,
                                          context: "\(backupID)/\(Self.platformFile)")
        let table = administrators
        let rows = try await storage.controlPlane.read { database in
            try await database.select().columns(AdministratorRecord.columns).from(table).orderBy("created_at").all(decoding: AdministratorRecord.self)
        }
        for row in rows {
            try writer.begin(BackupEntry(kind: "administrator", name: row.id))
            try writer.data(try JSONEncoder().encode(row))
            try writer.end()
        }
        let (sha256, bytes) = try writer.finish()
        return BackupManifest.PlatformPart(file: Self.platformFile, sha256: sha256, bytes: bytes, sealedKey: sealedKey, administrators: rows.count)
    }

    /// The administrators in the control plane's part, every frame authenticated; throws when
    /// the part is damaged or holds another number than the manifest says.
    func readPlatform(_ part: BackupManifest.PlatformPart, of manifest: BackupManifest, in folder: URL) throws -> [AdministratorRecord] {
        let path = folder.appendingPathComponent(part.file).path
        guard try Self.checksum(of: path) == part.sha256 else { throw BackupError.damaged("\(part.file) does not match its checksum") }
        let reader = try BackupPartReader(path: path, key: try keys.partKey(part.sealedKey, keyID: manifest.keyID), context: "\(manifest.id)/\(part.file)")
        var records: [AdministratorRecord] = [], body: [UInt8] = []
        while let record = try reader.next() {
            switch record {
            case .begin(let entry):
                guard entry.kind == "administrator" else { throw BackupError.damaged("\(part.file) holds an entry of kind \(entry.kind)") }
                body = []
            case .data(let bytes):
                body += bytes
            case .end:
                guard let administrator = try? JSONDecoder().decode(AdministratorRecord.self, from: Data(body)) else {
                    throw BackupError.damaged("an administrator in \(part.file) is malformed")
                }
                records.append(administrator)
            }
        }
        guard records.count == part.administrators else {
            throw BackupError.damaged("\(part.file) holds \(records.count) administrators, the manifest says \(part.administrators)")
        }
        return records
    }

    /// Adds the backup's administrators this node lacks (by email); one whose email is here
    /// already keeps this node's account. Returns how many were added.
    func restorePlatform(_ records: [AdministratorRecord]) async throws -> Int {
        let table = administrators
        let added = try await storage.controlPlane.transaction { database in
            var added = 0
            for record in records {
                let present = try await database.select().column("id").from(table)
                    .where("email_key", .equal, record.emailKey).orWhere("id", .equal, record.id).first()
                guard present == nil else { continue }
                try await database.insert(into: table).columns(AdministratorRecord.columns)
                    .values(SQLBind(record.id), SQLBind(record.email), SQLBind(record.emailKey), SQLBind(record.name), SQLBind(record.status),
                            SQLBind(record.passwordHash), SQLBind(record.createdAt), SQLBind(Timestamp.now()))
                    .run()
                added += 1
            }
            return added
        }
        if added > 0 { logger.notice("platform administrators restored", metadata: ["count": "\(added)"]) }
        return added
    }
}
