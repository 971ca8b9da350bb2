import ArgumentParser
import Foundation
import WardBackup
import WardDocuments
import WardServer

/// `ward backup create|list|verify|restore|prune`: encrypted, checksummed backups of tenants
/// (see `Backups`), made while the node serves, into a directory or, through one on the
/// node, a bucket.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Back up tenants, check backups and restore them.",
        subcommands: [Create.self, List.self, Verify.self, Restore.self, Prune.self]
    )

    /// Runs `body` with the node's backups, over its services.
    static func withBackups<Result>(_ body: (Backups) async throws -> Result) async throws -> Result {
        try await NodeBootstrap.withServices(label: "ward.backup") { services in
            let documents = services.modules.compactMap { $0 as? DocumentsModule }.first?.documents
            let backups = try Backups(storage: services.storage, audit: services.audit, documents: documents, settings: services.settings,
                                      wardVersion: WardApplication.version, logger: services.logger)
            do {
                return try await body(backups)
            } catch let error as BackupError {
                throw CommandFailure(error.description)
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Back up one tenant, or every active and suspended tenant of the node (and upload it, with an s3:// WARD_BACKUP_URL)."
        )

        @Option(help: "The tenant to back up; every tenant when omitted.") var tenant: String?

        func run() async throws {
            let (manifest, bucket) = try await BackupCommand.withBackups { (try await $0.create(tenant: tenant), $0.bucket?.location) }
            print("backup \(manifest.id): \(manifest.parts.count) tenant\(manifest.parts.count == 1 ? "" : "s"), \(manifest.parts.reduce(0) { $0 + $1.bytes }) bytes"
                  + (bucket.map { ", uploaded to \($0)/\(manifest.id)/" } ?? ""))
            for part in manifest.parts {
                print("  \(part.tenant.slug): \(part.rows.values.reduce(0, +)) rows, \(part.documents) documents, audit head \(part.auditHead.map { String($0.seq) } ?? "none")")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the backups, newest first: on this node (local), in the s3:// bucket (remote), or both."
        )

        func run() async throws {
            let backups = try await BackupCommand.withBackups { try await $0.list() }
            if backups.isEmpty { print("no backups") }
            for backup in backups {
                let manifest = backup.manifest
                let place = [backup.local ? "local" : nil, backup.remote ? "remote" : nil].compactMap { $0 }.joined(separator: "+")
                let tenants = manifest.parts.map(\.tenant.slug).joined(separator: ", ")
                print("\(manifest.id)  \(manifest.createdAt)  \(manifest.database)  \(place)  \(manifest.parts.reduce(0) { $0 + $1.bytes }) bytes  \(tenants)")
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a backup end to end without restoring it; exits 1 if any part fails.")

        @Argument(help: "The backup's id (see `ward backup list`).") var id: String
        @Flag(help: "Check the bucket's copy even when this node holds one (it is downloaded to a temporary folder).") var remote = false

        func run() async throws {
            let checks = try await BackupCommand.withBackups { try await $0.verify(id, remote: remote) }
            for check in checks { print("\(check.slug): \(check.problem.map { "FAILED: \($0)" } ?? "ok")") }
            if checks.contains(where: { $0.problem != nil }) { throw ExitCode(1) }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore a backup's tenants onto this node, each under a slug not taken here (an empty node, or --as)."
        )

        @Argument(help: "The backup's id (see `ward backup list`).") var id: String
        @Option(help: "Restore only this tenant of the backup.") var tenant: String?
        @Option(name: .customLong("as"), help: "Restore the tenant under this new slug, beside the original.") var newSlug: String?

        func run() async throws {
            let restored = try await BackupCommand.withBackups { try await $0.restore(id, tenant: tenant, as: newSlug) }
            for tenant in restored { print("restored \(tenant.slug) (id \(tenant.id)), \(tenant.status.rawValue); check it with: ward audit verify --tenant \(tenant.slug)") }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove backups older than the retention: WARD_BACKUP_RETENTION_DAYS on this node, WARD_BACKUP_REMOTE_RETENTION_DAYS in an s3:// bucket; the newest of each always stays."
        )

        @Option(help: "Keep this many days on this node instead of the configured retention.") var days: Int?
        @Option(help: "Keep this many days in the bucket instead of the configured remote retention.") var remoteDays: Int?

        func run() async throws {
            let pruned = try await BackupCommand.withBackups { try await $0.prune(olderThan: days ?? $0.retentionDays, remoteOlderThan: remoteDays) }
            if pruned.local.isEmpty, pruned.remote.isEmpty { print("nothing to prune") }
            if !pruned.local.isEmpty { print("removed \(pruned.local.count) from this node: \(pruned.local.joined(separator: ", "))") }
            if !pruned.remote.isEmpty { print("removed \(pruned.remote.count) from the bucket: \(pruned.remote.joined(separator: ", "))") }
        }
    }
}
