import ArgumentParser
import Foundation
import Logging
import WardCore
import WardIdentity
import WardServer

/// `ward user create-admin`: a tenant's first administrator. The password comes from standard
/// input or a file, never a flag, so it stays out of shell history and process listings.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage tenant users from the command line.", subcommands: [CreateAdmin.self]
    )

    struct CreateAdmin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create-admin", abstract: "Create a tenant_admin user.")

        @Option(help: "The tenant's slug.") var tenant: String
        @Option(help: "The administrator's email.") var email: String
        @Option(help: "The administrator's name.") var name = "Administrator"
        @Flag(help: "Read the password from standard input (one line).") var passwordStdin = false
        @Option(help: "Read the password from this file.") var passwordFile: String?

        func validate() throws {
            guard passwordStdin != (passwordFile != nil) else {
                throw ValidationError("Give exactly one of --password-stdin or --password-file.")
            }
        }

        func run() async throws {
            let password = try PasswordInput.read(stdin: passwordStdin, file: passwordFile)
            let settings = try await NodeBootstrap.settings(logToStandardError: true)
            let services = try await WardApplication.services(
                settings: settings, metrics: WardMetrics(), logger: Logger(label: "ward.user"), accessLogger: Logger(label: "ward.access")
            )
            do {
                try await services.storage.migrateAll()
                let scope = try await services.storage.tenants.activeScope(slug: tenant)
                let user = try await services.identity.createUser(
                    in: scope, email: email, name: name, password: password, roles: [BuiltInRole.tenantAdmin.rawValue]
                )
                print("created \(user.email) (id \(user.id)) as tenant_admin of \(tenant)")
            } catch let error as any ProblemConvertible {
                await services.storage.shutdown()
                throw CommandFailure([error.problem.title, error.problem.detail].compactMap { $0 }.joined(separator: ": "))
            } catch {
                await services.storage.shutdown()
                throw error
            }
            await services.storage.shutdown()
        }
    }
}
