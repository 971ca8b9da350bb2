import ArgumentParser
import Logging
import WardCore
import WardStorage

/// `ward migrate`: bring the control plane and every tenant up to date; `--plan` lists what
/// would run; `--check` tells a deploy script what a rollout may do (exit status below).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply pending migrations.",
        discussion: """
            --check exits 0 when nothing is pending; 1 when migrations are pending and all of them \
            expand the schema (the release before this build runs on the migrated schema: migrate, \
            then restart the nodes one by one); 3 when a pending migration contracts it (every node \
            of the previous release must stop before it runs); 4 when the database holds migrations \
            this build does not know (it was migrated by a newer build: deploy that one, or newer).
            """
    )

    @Flag(help: "List pending migrations without applying them.")
    var plan = false

    @Flag(help: "Exit non-zero when anything is pending: 1 if it only expands the schema, 3 if it contracts it, 4 if the schema is newer than this build.")
    var check = false

    func run() async throws {
        let settings = try await NodeBootstrap.settings(logToStandardError: true)
        let storage = try await NodeBootstrap.storage(settings, logger: Logger(label: "ward.migrate"))
        do {
            if plan || check {
                // The control plane first: tenant listing needs its tables.
                let platformPending = try await storage.controlPlaneMigrator.plan()
                var pending = platformPending.map { ("platform", $0) }
                if platformPending.isEmpty {
                    try await storage.forEachTenantMigrator { migrator in
                        pending += try await migrator.plan().map { (migrator.target.label, $0) }
                        return true
                    }
                } else {
                    print("platform migrations are pending; tenant migrations are planned after they run")
                }
                for (target, migration) in pending {
                    let phase = migration.contracts.map { "contract (\($0))" } ?? "expand"
                    print("pending  \(target)  \(migration.version) \(migration.name)  \(phase)")
                }
                await storage.shutdown()
                let contracting = pending.filter { $0.1.contracts != nil }
                if pending.isEmpty {
                    print("nothing pending")
                } else if contracting.isEmpty {
                    print("expand only: the previous release runs on the migrated schema; migrate, then restart the nodes one at a time")
                } else {
                    print("\(contracting.count) contracting: stop every node of the previous release before migrating")
                }
                if check, !pending.isEmpty { throw ExitCode(contracting.isEmpty ? 1 : 3) }
                return
            }
            let report = try await storage.migrateAll()
            var count = 0
            for entry in report {
                for migration in entry.applied {
                    print("applied  \(entry.target)  \(migration.version) \(migration.name)")
                    count += 1
                }
            }
            print(count == 0 ? "nothing to apply" : "\(count) migration(s) applied")
            // Schemas made before the roles were split (or by hand) get the serving role's grants.
            if let role = settings.databaseRole, storage.owner != nil {
                try await storage.grantServingAccess()
                print("serving role \(role): read and write on every schema, append-only audit trail, no schema changes")
            }
            await storage.shutdown()
        } catch let error as MigrationError {
            await storage.shutdown()
            if check, case .unknownApplied = error {
                // What --check found, on standard output with its other verdicts.
                print("newer schema: \(error.description)")
                throw ExitCode(4)
            }
            throw CommandFailure(error.description)
        }
    }
}
