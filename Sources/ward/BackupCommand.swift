import ArgumentParser
import Foundation
import WardBackup
import WardDocuments
import WardServer

/// `ward backup create|list|verify|restore|prune`: encrypted, checksummed backups of tenants
/// (see `Backups`), made while the node serves.
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
        static let configuration = CommandConfiguration(abstract: "Back up one tenant, or every active and suspended tenant of the node.")

        @Option(help: "The tenant to back up; every tenant when omitted.") var tenant: String?

        func run() async throws {
            let manifest = try await BackupCommand.withBackups { try await $0.create(tenant: tenant) }
            print("backup \(manifest.id): \(manifest.parts.count) tenant\(manifest.parts.count == 1 ? "" : "s"), \(manifest.parts.reduce(0) { $0 + $1.bytes }) bytes")
            for part in manifest.parts {
                print("  \(part.tenant.slug): \(part.rows.values.reduce(0, +)) rows, \(part.documents) documents, audit head \(part.auditHead.map { String($0.seq) } ?? "none")")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the backups, newest first.")

        func run() async throws {
            let manifests = try await BackupCommand.withBackups { try $0.list() }
            if manifests.isEmpty { print("no backups") }
            for manifest in manifests {
                let tenants = manifest.parts.map(\.tenant.slug).joined(separator: ", ")
                print("\(manifest.id)  \(manifest.createdAt)  \(manifest.database)  \(manifest.parts.reduce(0) { $0 + $1.bytes }) bytes  \(tenants)")
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a backup end to end without restoring it; exits 1 if any part fails.")

        @Argument(help: "The backup's id (see `ward backup list`).") var id: String

        func run() async throws {
            let checks = try await BackupCommand.withBackups { try await $0.verify(id) }
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
        static let configuration = CommandConfiguration(abstract: "Remove backups older than the retention (WARD_BACKUP_RETENTION_DAYS); the newest always stays.")

        @Option(help: "Keep this many days instead of the configured retention.") var days: Int?

        func run() async throws {
            let removed = try await BackupCommand.withBackups { try $0.prune(olderThan: days ?? $0.retentionDays) }
            print(removed.isEmpty ? "nothing to prune" : "removed \(removed.count): \(removed.joined(separator: ", "))")
        }
    }
}
