import ArgumentParser
import Logging
import WardCore
import WardServer
import WardStorage

/// `ward tenant create|list`.
struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Create and list tenants.",
        subcommands: [Create.self, List.self, Suspend.self, Resume.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant: its database, migrated and active.")

        @Argument(help: "3–40 of a-z, 0-9 and -, starting with a letter.")
        var slug: String

        @Option(help: "The clinic's or hospital's name.")
        var name: String

        @Option(help: "IANA time zone of the tenant (daily reports close at its midnight).")
        var timezone = "UTC"

        func run() async throws {
            try await NodeBootstrap.withServices(label: "ward.tenant") { services in
                let tenant = try await TenantAdministration(storage: services.storage, audit: services.audit)
                    .create(slug: slug, name: name, timeZone: timezone, by: .system)
                print("tenant \(tenant.slug) is \(tenant.status.rawValue) (id \(tenant.id))")
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
                print("\(tenant.slug)\t\(tenant.status.rawValue)\t\(tenant.timeZone)\t\(tenant.name)")
            }
        }
    }

    struct Suspend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Suspend a tenant: its API answers 403; its data is untouched.")
        @Argument var slug: String
        func run() async throws { try await TenantCommand.change(slug, to: .suspended) }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a suspended tenant.")
        @Argument var slug: String
        func run() async throws { try await TenantCommand.change(slug, to: .active) }
    }

    static func change(_ slug: String, to status: Tenant.Status) async throws {
        try await NodeBootstrap.withServices(label: "ward.tenant") { services in
            let tenant = try await TenantAdministration(storage: services.storage, audit: services.audit).setStatus(slug, status, by: .system)
            print("tenant \(tenant.slug) is \(tenant.status.rawValue)")
        }
    }
}
