import ArgumentParser
import Foundation
import Logging
import WardCore
import WardAudit
import WardIdentity
import WardKit
import WardServer

/// `ward user create-admin`: a tenant's first administrator. The password comes from standard
/// input or a file, never a flag, so it stays out of shell history and process listings.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage tenant users from the command line.", subcommands: [CreateAdmin.self, Create.self]
    )

    /// `ward user create`: a user with the roles given.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a user with the given roles.")

        @Option(help: "The tenant's slug.") var tenant: String
        @Option(help: "The user's email.") var email: String
        @Option(help: "The user's name.") var name: String
        @Option(name: .customLong("role"), help: "A role to grant (repeatable).") var roles: [String] = []
        @OptionGroup var passwordInput: PasswordInput

        func run() async throws {
            try await UserCommand.create(tenant: tenant, email: email, name: name, roles: roles,
                                         password: try passwordInput.read())
        }
    }

    /// Creates a user through the identity service, as the API would.
    static func create(tenant: String, email: String, name: String, roles: [String], password: String) async throws {
        try await NodeBootstrap.withServices(label: "ward.user") { services in
            let scope = try await services.storage.tenants.activeScope(slug: tenant)
            let user = try await services.identity.createUser(in: scope, email: email, name: name, password: password, roles: roles, by: .system)
            print("created \(user.email) (id \(user.id)) in \(tenant) with roles \(user.roles.joined(separator: ", "))")
        }
    }

    struct CreateAdmin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create-admin", abstract: "Create a tenant_admin user.")

        @Option(help: "The tenant's slug.") var tenant: String
        @Option(help: "The administrator's email.") var email: String
        @Option(help: "The administrator's name.") var name = "Administrator"
        @OptionGroup var passwordInput: PasswordInput

        func run() async throws {
            try await UserCommand.create(tenant: tenant, email: email, name: name, roles: [BuiltInRole.tenantAdmin.rawValue],
                                         password: try passwordInput.read())
        }
    }
}
