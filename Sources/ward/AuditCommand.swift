import ArgumentParser
import Logging
import WardAudit
import WardCore
import WardServer
import WardStorage

/// `ward audit verify`: walks each tenant's hash chain, checks it still holds the head the
/// control plane last witnessed, and reports the first broken link.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Check the audit trail.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Verify the hash chain of one tenant's trail, or of every tenant's.")

        @Option(help: "The tenant to verify; every tenant when omitted.") var tenant: String?

        func run() async throws {
            let settings = try await NodeBootstrap.settings(logToStandardError: true)
            let storage = try await NodeBootstrap.storage(settings, logger: Logger(label: "ward.audit"))
            var broken = 0
            let witness = AuditWitness(storage: storage)
            let trail = AuditTrail(registry: WardMetrics().registry, journal: AuditJournal(storage: storage))
            do {
                let tenants = try await storage.tenants.list().filter { tenant == nil || $0.slug == tenant }
                if let tenant, tenants.isEmpty { throw CommandFailure("no tenant '\(tenant)'") }
                for entry in tenants where [.active, .suspended].contains(entry.status) {
                    let scope = try await storage.tenants.scope(for: entry)
                    let result = try await trail.verify(scope, witness: witness)
                    if let failure = result.firstBreak {
                        broken += 1
                        print("\(entry.slug): BROKEN at event \(failure.seq): \(failure.problem) (\(result.checked) events verified before it)")
                    } else {
                        print("\(entry.slug): ok, \(result.checked) events")
                    }
                }
            } catch {
                await storage.shutdown()
                throw error
            }
            await storage.shutdown()
            if broken > 0 { throw ExitCode(1) }
        }
    }
}
