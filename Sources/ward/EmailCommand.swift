import ArgumentParser
import Foundation
import WardCore
import WardMail

/// `ward email test --to <address>`: sends one message through the configured transport at
/// once (not through the outbox), so an operator sees the relay's answer, or where the `.eml`
/// file was written, before relying on it.
struct EmailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "email", abstract: "Check email delivery.", subcommands: [Test.self])

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a test message through the configured transport (WARD_SMTP_URL, or .eml files).")

        @Option(help: "The address to send the test message to.") var to: String

        func run() async throws {
            let settings = try await NodeBootstrap.settings(logToStandardError: true)
            guard let recipient = MailAddress(parsing: to) else { throw CommandFailure("--to must be an email address") }
            guard let from = MailAddress(parsing: settings.mail.from) else { throw CommandFailure("WARD_EMAIL_FROM is not an address: \(settings.mail.from)") }
            let transport = try MailModule.transport(settings)
            let signer = try MailModule.signer(settings)
            let message = MailMessage(
                from: from, to: recipient, subject: "Ward test message",
                text: "This message was sent by `ward email test` to check that email from Ward reaches you.\n\nTransport: \(transport.summary)\n",
                messageID: MailMessage.newID(domain: from.domain), date: Date(), headers: [("Auto-Submitted", "auto-generated")]
            )
            var bytes = message.rendered()
            if let signer { bytes = try signer.sign(bytes) }
            print("sending to \(recipient.address) through \(transport.summary)\(signer.map { " (DKIM \($0.selector)._domainkey.\($0.domain))" } ?? "")")
            do {
                try await transport.deliver(bytes, from: from.address, to: recipient.address)
            } catch let failure as DeliveryFailure {
                throw CommandFailure("not delivered: \(failure)")
            }
            print("delivered: \(message.messageID)")
        }
    }
}
