import ArgumentParser
import Foundation
import Logging
import WardAudit
import WardCore
import WardJobs
import WardPlatform
import WardServer
import WardStorage

/// `ward tenant create|list|suspend|resume|delete|retry|move`: the control plane's tenant
/// operations, through the same lifecycle the platform API uses.
struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Provision, list, suspend, resume, delete, retry and move tenants.",
        subcommands: [Create.self, List.self, Suspend.self, Resume.self, Delete.self, Retry.self, Move.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Provision a tenant: queue its provisioning job and run it here, printing each step as it completes."
        )

        @Argument(help: "3–40 of a-z, 0-9 and -, starting with a letter.")
        var slug: String

        @Option(help: "The clinic's or hospital's name.")
        var name: String

        @Option(help: "IANA time zone of the tenant (daily reports close at its midnight).")
        var timezone = "UTC"

        @Option(help: "Email of the tenant's first administrator (sent a one-time set-password link).")
        var adminEmail: String?

        @Option(help: "Name of the tenant's first administrator.")
        var adminName: String?

        @Option(help: "The shard to place it on (`ward shard list`); the open one with the fewest tenants when absent.")
        var shard: String?

        func run() async throws {
            try await NodeBootstrap.withServices(label: "ward.tenant") { services in
                let accepted = try await services.lifecycle.requestProvisioning(.init(
                    slug: slug, name: name, timeZone: timezone, adminEmail: adminEmail, adminName: adminEmail == nil ? adminName : (adminName ?? "Administrator"),
                    shard: shard
                ))
                print("tenant \(accepted.tenant.slug) reserved (id \(accepted.tenant.id)); provisioning job \(accepted.job.id)")
                try await TenantCommand.follow(accepted.tenant, job: accepted.job.id, services: services)
            }
        }
    }

    /// Runs the provisioning job here when no running node has taken it, printing steps as they
    /// are recorded, until the tenant is active or failed for good.
    static func follow(_ tenant: Tenant, job jobID: String, services: WardServices) async throws {
        let worker = NodeJobs.worker(services, id: "cli/\(ProcessInfo.processInfo.processIdentifier)")
        var printed = 0
        while true {
            _ = try await worker.runNow(jobID)
            let described = try await services.lifecycle.describe(tenant.slug)
            for step in described.steps.dropFirst(printed) {
                let error = step.error.map { " — \($0)" } ?? ""
                print("  \(step.step.padding(toLength: 20, withPad: " ", startingAt: 0)) attempt \(step.attempt)  \(step.outcome)  \(step.durationMs) ms\(error)")
            }
            printed = described.steps.count
            let job = try await services.queue.find(jobID)
            switch (described.tenant.status, job?.state) {
            case (.active, _):
                print("tenant \(tenant.slug) is active")
                return
            case (.failed, _), (_, .dead?), (_, .cancelled?):
                throw CommandFailure("provisioning of \(tenant.slug) failed: \(described.tenant.lastError ?? job?.lastError ?? "unknown error"); `ward tenant retry \(tenant.slug)` starts again")
            case (_, .failed?):
                if let job { print("  waiting to retry at \(job.runAt) (attempt \(job.attempts) of \(job.maxAttempts) failed)") }
                try await Task.sleep(for: .seconds(1))
            default:
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants with their status.")

        func run() async throws {
            let settings = try await NodeBootstrap.settings(logToStandardError: true)
            let storage = try await NodeBootstrap.storage(settings, logger: Logger(label: "ward.tenant"))
            try await storage.controlPlaneMigrator.apply()
            let tenants = try await storage.tenants.list()
            await storage.shutdown()
            if tenants.isEmpty { print("no tenants"); return }
            for tenant in tenants {
                let error = tenant.lastError.map { "\t\($0)" } ?? ""
                print("\(tenant.slug)\t\(tenant.status.rawValue)\t\(tenant.shard)\t\(tenant.timeZone)\t\(tenant.name)\(error)")
            }
        }
    }

    struct Suspend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Suspend a tenant: its API answers 403; its data is untouched.")
        @Argument var slug: String
        func run() async throws {
            try await NodeBootstrap.withServices(label: "ward.tenant") { services in
                print("tenant \(slug) is \(try await services.lifecycle.suspend(slug, by: .system).status.rawValue)")
            }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a suspended tenant, or restore a deleted one before its purge.")
        @Argument var slug: String
        func run() async throws {
            try await NodeBootstrap.withServices(label: "ward.tenant") { services in
                print("tenant \(slug) is \(try await services.lifecycle.resume(slug, by: .system).status.rawValue)")
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a tenant: refused at once, purged by a job after the grace period.")
        @Argument var slug: String
        func run() async throws {
            try await NodeBootstrap.withServices(label: "ward.tenant") { services in
                let tenant = try await services.lifecycle.delete(slug, by: .system)
                print("tenant \(slug) is \(tenant.status.rawValue); its data is purged after \(tenant.purgeAfter ?? "the grace period")")
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Provision a failed tenant again, printing each step.")
        @Argument var slug: String
        func run() async throws {
            try await NodeBootstrap.withServices(label: "ward.tenant") { services in
                let accepted = try await services.lifecycle.retry(slug)
                print("tenant \(slug) queued again; provisioning job \(accepted.job.id)")
                try await TenantCommand.follow(accepted.tenant, job: accepted.job.id, services: services)
            }
        }
    }

    struct Move: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a tenant's schema to another shard while the clinic works; writes wait only for the switch.",
            discussion: """
                Copies the schema (a snapshot, then the changes made meanwhile), holds writes while the last changes are \
                copied and the tenant is pointed at the new shard, then lets them through there. Reads never wait. The old \
                schema is dropped once every node has let the old placement go (--keep-source seconds, 30 by default). One \
                move runs at a time; --abandon clears a move a crashed process left running.
                """
        )
        @Argument var slug: String?
        @Option(help: "The shard to move it to.")
        var to: String?
        @Option(help: "Seconds the old schema stays (readable, refusing writes) after the switch.")
        var keepSource = 30
        @Flag(help: "Mark a move left running by a crashed process as failed, so another may start.")
        var abandon = false

        func run() async throws {
            let settings = try await NodeBootstrap.settings(logToStandardError: true)
            let storage = try await NodeBootstrap.storage(settings, logger: Logger(label: "ward.tenant"))
            do {
                try await storage.controlPlaneMigrator.apply()
                let mover = try storage.tenants.mover()
                if abandon {
                    print(try await mover.abandon().map { "the move of \($0) is marked failed" } ?? "no move was running")
                    await storage.shutdown()
                    return
                }
                guard let slug, let to else { throw ValidationError("give the tenant and --to SHARD (or --abandon)") }
                let report = try await mover.run(slug, to: to, sourceGrace: .seconds(max(0, keepSource))) { progress in
                    switch progress {
                    case .copied(let table, let rows): if rows > 0 { print("  copied \(table): \(rows) rows") }
                    case .caughtUp(let round, let changes): print("  catch-up round \(round): \(changes) changes")
                    case .switched(let pause): print("  switched; writes held for \(pause.formatted(.units(allowed: [.milliseconds])))")
                    case .removedSource: print("  old schema dropped")
                    }
                }
                print("tenant \(slug) moved from \(report.from) to \(report.to): \(report.rowsCopied) rows, \(report.changesCopied) changes in \(report.rounds) rounds, writes held \(report.pause.formatted(.units(allowed: [.milliseconds]))), \(report.total.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1)))) in all")
                await storage.shutdown()
            } catch {
                await storage.shutdown()
                if let error = error as? TenantMoveError { throw CommandFailure(error.description) }
                if let error = error as? ShardError { throw CommandFailure(error.description) }
                throw error
            }
        }
    }
}
