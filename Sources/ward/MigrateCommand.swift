import ArgumentParser
import Logging
import WardCore
import WardStorage

/// `ward migrate`: bring the control plane and every tenant up to date; `--plan` lists what
/// would run, `--check` exits non-zero when anything is pending.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply pending migrations.")

    @Flag(help: "List pending migrations without applying them.")
    var plan = false

    @Flag(help: "Exit with status 1 when any migration is pending.")
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
                    print("pending  \(target)  \(migration.version) \(migration.name)")
                }
                if pending.isEmpty { print("nothing pending") }
                await storage.shutdown()
                if check, !pending.isEmpty { throw ExitCode(1) }
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
            await storage.shutdown()
        } catch let error as MigrationError {
            await storage.shutdown()
            throw CommandFailure(error.description)
        }
    }
}
