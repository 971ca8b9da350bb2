import Foundation
package import WardCore
package import WardHTTP
package import WardJobs
package import WardKit
package import WardStorage

/// Email as a module: the outbox every module queues into (published as `Outbox`), the job
/// that delivers it, the transport (SMTP relay, or `.eml` files under the data directory),
/// DKIM signing, each tenant's wording of its emails, and the mail metrics. Registered first,
/// so every later module can send.
package struct MailModule: WardModule {
    package static let name = "mail"
    package static var platformMigrations: [Migration] { MailMigrations.platform }
    package static var tenantMigrations: [Migration] { MailMigrations.tenant }
    package static let permissions = [
        PermissionDefinition("mail:manage", "word the clinic's emails and see what was sent"),
    ]
    package static var operations: [APIOperation] { MailController.operations }

    let node: ModuleNode
    let outbox: Outbox
    let wording: MailWording
    let metrics: MailMetrics

    package init(node: ModuleNode) throws {
        self.node = node
        metrics = MailMetrics(registry: node.metrics.registry)
        outbox = try Outbox(storage: node.storage, queue: node.queue, settings: node.settings, transport: try Self.transport(node.settings),
                            templates: MailTemplateLibrary(), signer: try Self.signer(node.settings), metrics: metrics, logger: node.logger)
        wording = MailWording(library: outbox.templates, audit: node.audit)
        node.provide(outbox)
        node.provide(wording)
    }

    /// The relay `WARD_SMTP_URL` names, else `.eml` files under the data directory's `mail/`.
    package static func transport(_ settings: WardSettings) throws -> any MailTransport {
        guard let url = settings.mail.smtpURL else {
            return FileTransport(directory: URL(fileURLWithPath: settings.dataDirectory).appendingPathComponent("mail"))
        }
        let from = MailAddress(parsing: settings.mail.from)
        return try SMTPTransport(url: url, trustedCertificates: settings.mail.smtpCAFile, helloName: from?.domain ?? "localhost")
    }

    package static func signer(_ settings: WardSettings) throws -> DKIMSigner? {
        guard let selector = settings.mail.dkimSelector, let keyFile = settings.mail.dkimKeyFile else { return nil }
        guard let domain = MailAddress(parsing: settings.mail.from)?.domain else { throw MailConfigurationError("WARD_EMAIL_FROM has no domain to sign for") }
        let pem: String
        do {
            pem = try String(contentsOfFile: keyFile, encoding: .utf8)
        } catch {
            throw MailConfigurationError("cannot read the DKIM key file \(keyFile): \(error.localizedDescription)")
        }
        return try DKIMSigner(domain: domain, selector: selector, pem: pem)
    }

    package func routes(_ routes: inout ModuleRoutes) {
        MailController(outbox: outbox, wording: wording).routes(&routes)
    }

    package static let housekeepingKind = "mail.housekeeping"
    /// How long a message that reached its end (sent, failed, suppressed) is kept, with its
    /// sealed content and attachments, before housekeeping removes it: as long as finished jobs.
    static let retention: TimeInterval = 30 * 86_400

    package func jobs() -> [JobHandler] {
        let outbox = self.outbox, clock = node.clock
        return [
            JobHandler(kind: Outbox.sendKind, policy: RetryPolicy(node.settings.jobs), run: { run in try await outbox.deliver(run) },
                       retryDelay: { Outbox.retryDelay(of: $0) }),
            JobHandler(kind: Self.housekeepingKind, policy: RetryPolicy(node.settings.jobs)) { _ in
                try await outbox.removeFinished(before: clock.now.addingTimeInterval(-Self.retention))
            },
        ]
    }

    /// Old finished messages are removed daily.
    package func schedules() throws -> [Schedule] {
        let attempts = node.settings.jobs.maxAttempts
        return [
            try Schedule(name: Self.housekeepingKind, cron: "23 3 * * *", scope: .installation(.gmt), catchUp: .seconds(86_400)) { _, _ in
                try JobQueue.Request(kind: Self.housekeepingKind, payload: NoPayload(), maxAttempts: attempts)
            },
        ]
    }

    /// A purged tenant's emails go with it.
    package func purge(_ tenant: Tenant) async throws {
        try await outbox.purge(tenant: tenant.slug)
    }

    package func refreshMetrics() async {
        guard let depth = try? await outbox.depth() else { return }
        metrics.setDepth(depth)
    }
}
