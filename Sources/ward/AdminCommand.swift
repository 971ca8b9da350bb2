import ArgumentParser
import Foundation
import Logging
import WardCore
import WardServer

/// `ward admin create`: a control-plane administrator. The password comes from standard input
/// or a file, never a flag.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Manage control-plane administrators.", subcommands: [Create.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a control-plane administrator.")

        @Option(help: "The administrator's email.") var email: String
        @Option(help: "The administrator's name.") var name = "Platform Administrator"
        @OptionGroup var passwordInput: PasswordInput

        func run() async throws {
            let password = try passwordInput.read()
            try await NodeBootstrap.withServices(label: "ward.admin") { services in
                let id = try await services.identity.createPlatformAdmin(email: email, name: name, password: password)
                print("created control-plane administrator \(email) (id \(id))")
            }
        }
    }
}

/// Passwords for the command line: from standard input or a file, never a flag, so they stay
/// out of shell history and process listings.
struct PasswordInput: ParsableArguments {
    @Flag(help: "Read the password from standard input (one line).") var passwordStdin = false
    @Option(help: "Read the password from this file.") var passwordFile: String?

    func validate() throws {
        guard passwordStdin != (passwordFile != nil) else {
            throw ValidationError("Give exactly one of --password-stdin or --password-file.")
        }
    }

    func read() throws -> String {
        if let passwordFile {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else { throw CommandFailure("cannot read \(passwordFile)") }
            return text.trimmingCharacters(in: .newlines)
        }
        return readLine(strippingNewline: true) ?? ""
    }
}
