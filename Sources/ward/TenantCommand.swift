import ArgumentParser
import Foundation
import Logging
import WardAudit
import WardCore
import WardJobs
import WardPlatform
import WardServer
import WardStorage

/// `ward tenant create|list|suspend|resume|delete|retry`: the control plane's tenant operations,
/// through the same lifecycle the platform API uses.
struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Provision, list, suspend, resume, delete and retry tenants.",
        subcommands: [Create.self, List.self, Suspend.self, Resume.self, Delete.self, Retry.self]
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

        func run() async throws {
            try await NodeBootstrap.withServices(label: "ward.tenant") { services in
                let accepted = try await services.lifecycle.requestProvisioning(.init(
                    slug: slug, name: name, timeZone: timezone, adminEmail: adminEmail, adminName: adminEmail == nil ? adminName : (adminName ?? "Administrator")
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
                print("\(tenant.slug)\t\(tenant.status.rawValue)\t\(tenant.timeZone)\t\(tenant.name)\(error)")
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
}
