import Crypto
package import Foundation
package import Logging
import SQLKit
package import WardCore
package import WardJobs
package import WardStorage

/// An email to send: which template, to whom, with what values and files.
package struct Letter: Sendable {
    package var template: String
    /// The tenant (slug) it is sent for; nil for the control plane's own mail.
    package var tenant: String?
    package var recipient: MailAddress
    package var values: [String: String]
    package var attachments: [MailAttachment]
    /// The same key twice queues one email (a step or job that runs again).
    package var dedupeKey: String?
    /// Retries: `attempts` in all, `every` apart; nil takes the node's job defaults.
    package var retries: (attempts: Int, every: Duration)?

    package init(template: String, tenant: String?, recipient: MailAddress, values: [String: String], attachments: [MailAttachment] = [],
                 dedupeKey: String? = nil, retries: (attempts: Int, every: Duration)? = nil) {
        self.template = template
        self.tenant = tenant
        self.recipient = recipient
        self.values = values
        self.attachments = attachments
        self.dedupeKey = dedupeKey
        self.retries = retries
    }
}

/// Where a queued email is.
package enum MailStatus: String, Sendable, Codable {
    case queued, sent, failed, suppressed
}

/// A queued or sent email as an operator or a test sees it, its content opened.
package struct StoredMail: Sendable {
    package var id: String
    package var tenant: String?
    package var template: String
    package var status: MailStatus
    package var recipient: String
    package var subject: String
    package var text: String
    package var messageID: String
    package var attempts: Int
    package var lastReply: String?
    package var createdAt: String
    package var sentAt: String?
}

/// The durable outbox in the control plane. An email is rendered, signed and sealed when it is
/// queued, with the job that sends it in the same transaction: what was queued is sent at least
/// once, always as the same bytes with the same Message-ID. Recipients are kept only inside
/// the sealed message and as a keyed hash, so the control plane holds no patient's address in
/// the clear; clinical values never reach a log line.
package final class Outbox: Sendable {
    package static let sendKind = "mail.send"

    private let database: any Database
    private let messages: SQLQualifiedTable
    private let suppressions: SQLQualifiedTable
    private let queue: JobQueue
    private let box: SecretBox
    private let addressKeys: [SymmetricKey]
    private let from: MailAddress
    private let ratePerMinute: Int
    private let defaultAttempts: Int
    private let signer: DKIMSigner?
    package let templates: MailTemplateLibrary
    package let transport: any MailTransport
    private let metrics: MailMetrics
    private let logger: Logger

    package init(storage: Storage, queue: JobQueue, settings: WardSettings, transport: any MailTransport, templates: MailTemplateLibrary,
                 signer: DKIMSigner?, metrics: MailMetrics, logger: Logger) throws {
        database = storage.controlPlane
        messages = SQLQualifiedTable("mail_messages", space: storage.controlPlaneTarget.schema)
        suppressions = SQLQualifiedTable("mail_suppressions", space: storage.controlPlaneTarget.schema)
        self.queue = queue
        let secret = settings.secretKey ?? ""
        box = SecretBox(secretKey: secret, previousKeys: settings.auth.previousSecretKeys, purpose: "ward mail outbox v2")
        addressKeys = ([secret] + settings.auth.previousSecretKeys).filter { !$0.isEmpty }.map {
            HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Data($0.utf8)), info: Data("ward mail address v1".utf8), outputByteCount: 32)
        }
        guard let from = MailAddress(parsing: settings.mail.from) else {
            throw MailConfigurationError("WARD_EMAIL_FROM is not an address: \(settings.mail.from)")
        }
        self.from = from
        ratePerMinute = settings.mail.ratePerMinute
        defaultAttempts = settings.jobs.maxAttempts
        self.signer = signer
        self.templates = templates
        self.transport = transport
        self.metrics = metrics
        self.logger = logger
    }

    // MARK: Queueing

    /// Renders `letter` with its template (the tenant's wording when it has one) and queues it.
    /// Returns the message's id; nil when its dedupe key was used before. A suppressed
    /// address is recorded as such and never sent to.
    @discardableResult
    package func send(_ letter: Letter, scope: TenantScope? = nil) async throws -> String? {
        let template = try await templates.template(letter.template, for: scope)
        let rendered = try template.render(letter.values)
        return try await queue(template: letter.template, tenant: letter.tenant, recipient: letter.recipient, subject: rendered.subject,
                               text: rendered.text, html: rendered.html, attachments: letter.attachments, dedupeKey: letter.dedupeKey,
                               retries: letter.retries)
    }

    /// Queues a message written elsewhere (an operator's test message, an imported one).
    @discardableResult
    package func queue(template: String, tenant: String?, recipient: MailAddress, subject: String, text: String, html: String?,
                       attachments: [MailAttachment] = [], dedupeKey: String?, retries: (attempts: Int, every: Duration)? = nil) async throws -> String? {
        guard MailAddress.isValid(recipient.address) else { throw MailConfigurationError("the recipient is not an email address") }
        let id = UUIDv7.id()
        let now = queueClock.now
        let message = MailMessage(from: from, to: recipient, subject: subject, text: text, html: html, attachments: attachments,
                                  messageID: MailMessage.newID(domain: from.domain), date: now,
                                  headers: [("Auto-Submitted", "auto-generated")])
        var bytes = message.rendered()
        if let signer { bytes = try signer.sign(bytes) }
        let envelope = Envelope(sender: from.address, recipient: recipient.address, subject: subject, text: text, message: Data(bytes))
        let sealed = try box.seal(String(decoding: try JSONEncoder().encode(envelope), as: UTF8.self))
        let suppressed = try await isSuppressed(recipient.address)
        let attempts = retries?.attempts ?? defaultAttempts
        let payload = SendOrder(message: id, retrySeconds: retries.map { Int($0.every.timeInterval) })
        let (messages, queue, ratePerMinute) = (self.messages, self.queue, self.ratePerMinute)
        let hash = addressHash(recipient.address, key: 0)

        let queued: Bool = try await database.transaction { database in
            if let dedupeKey, try await database.select().column("id").from(messages).where("dedupe_key", .equal, dedupeKey).first() != nil {
                return false
            }
            // A tenant over its sending rate waits its turn: the message is sent later, not dropped.
            var runAt = now
            if let tenant, !suppressed {
                let since = Timestamp.text(now.addingTimeInterval(-60))
                let recent = try await database.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(messages)
                    .where("tenant", .equal, tenant).where("created_at", .greaterThan, since).first()?.decode(column: "n", as: Int.self) ?? 0
                if recent >= ratePerMinute { runAt = now.addingTimeInterval(60 * Double(recent / ratePerMinute)) }
            }
            try await database.insert(into: messages)
                .columns("id", "tenant", "template", "recipient_hash", "dedupe_key", "message_id", "sealed", "status", "attempts", "created_at")
                .values(SQLBind(id), SQLBind(tenant), SQLBind(template), SQLBind(hash), SQLBind(dedupeKey), SQLBind(message.messageID),
                        SQLBind(sealed), SQLBind(suppressed ? MailStatus.suppressed.rawValue : MailStatus.queued.rawValue), SQLBind(0),
                        SQLBind(Timestamp.text(now)))
                .run()
            if !suppressed {
                _ = try await queue.enqueue(try JobQueue.Request(kind: Self.sendKind, payload: payload, tenant: tenant, runAt: runAt,
                                                                 maxAttempts: attempts, uniqueKey: "mail:\(id)"), in: database)
            }
            return true
        }
        guard queued else { return nil }
        if suppressed {
            metrics.record(template: template, outcome: "suppressed")
            logger.notice("email not queued: its address is suppressed after a hard bounce", metadata: ["mail_id": "\(id)", "template": "\(template)"])
        }
        return id
    }

    private var queueClock: any WallClock { queue.clock }

    // MARK: Sending

    struct SendOrder: Codable {
        let message: String
        let retrySeconds: Int?
    }

    /// Sent inside the sealed column: the envelope, what a preview shows, and the exact bytes.
    private struct Envelope: Codable {
        let sender: String
        let recipient: String
        let subject: String
        let text: String
        let message: Data
    }

    /// Why a message will not be sent again: the server refused it for good.
    struct Refused: PermanentJobFailure, CustomStringConvertible {
        let reply: String
        var description: String { "refused: \(reply)" }
    }

    /// The job: sends the queued message once; a message already sent, suppressed or cancelled
    /// is left alone, so a job that runs again after a crash sends nothing twice that it knew of.
    package func deliver(_ run: JobRun) async throws {
        let order = try run.job.decodePayload(as: SendOrder.self)
        let (messages, suppressions) = (self.messages, self.suppressions)
        guard let row = try await database.read({ database in
            try await database.select().columns("template", "status", "sealed", "recipient_hash").from(messages).where("id", .equal, order.message).first()
        }) else { return }
        let template = try row.decode(column: "template", as: String.self)
        guard try row.decode(column: "status", as: String.self) == MailStatus.queued.rawValue else { return }
        guard let opened = box.open(try row.decode(column: "sealed", as: String.self)),
              let envelope = try? JSONDecoder().decode(Envelope.self, from: Data(opened.utf8)) else {
            throw Refused(reply: "the message cannot be opened with this node's secret keys")
        }
        if try await isSuppressed(envelope.recipient) {
            try await settle(order.message, status: .suppressed, reply: "address suppressed after a hard bounce")
            metrics.record(template: template, outcome: "suppressed")
            return
        }
        let metadata: Logger.Metadata = ["mail_id": "\(order.message)", "template": "\(template)", "attempt": "\(run.job.attempts)"]
        do {
            // A conversation under way is not cut short by a shutdown (it ends within the
            // transport's own time bound): cut after the server took the message, it would be
            // sent again.
            let transport = self.transport, message = [UInt8](envelope.message)
            try await Task { try await transport.deliver(message, from: envelope.sender, to: envelope.recipient) }.value
        } catch let failure as DeliveryFailure {
            switch failure {
            case .temporary(let reply):
                let final = run.job.isFinalAttempt
                try await settle(order.message, status: final ? .failed : .queued, reply: reply)
                metrics.record(template: template, outcome: final ? "failed" : "retried")
                logger.warning(final ? "email failed after its last attempt" : "email delivery failed; will retry", metadata: metadata.merging(["reply": "\(reply)"]) { $1 })
                throw failure
            case .permanent(let reply, let recipientRefused):
                try await settle(order.message, status: .failed, reply: reply)
                if recipientRefused {
                    let hash = addressHash(envelope.recipient, key: 0)
                    try await database.transaction { database in
                        try await database.raw("""
                            INSERT INTO \(suppressions) (address_hash, reason, created_at) VALUES (\(bind: hash), \(bind: reply), \(bind: Timestamp.now()))
                            ON CONFLICT (address_hash) DO NOTHING
                            """).run()
                    }
                }
                metrics.record(template: template, outcome: "failed")
                logger.error("email refused by the mail server", metadata: metadata.merging(["reply": "\(reply)"]) { $1 })
                throw Refused(reply: reply)
            }
        }
        // Recorded in a task of its own: a shutdown arriving now must not leave a delivered
        // message marked queued, to be sent again after the restart.
        let id = order.message
        try await Task { try await self.settle(id, status: .sent, reply: nil) }.value
        metrics.record(template: template, outcome: "sent")
        logger.info("email sent", metadata: metadata)
    }

    /// The delay the message's letter asked between attempts.
    package static func retryDelay(of job: Job) -> Duration? {
        (try? job.decodePayload(as: SendOrder.self))?.retrySeconds.map { .seconds($0) }
    }

    private func settle(_ id: String, status: MailStatus, reply: String?) async throws {
        let messages = self.messages
        try await database.transaction { database in
            try await database.raw("""
                UPDATE \(messages) SET status = \(bind: status.rawValue), attempts = attempts + 1, last_reply = \(bind: reply.map { String($0.prefix(500)) }),
                    sent_at = \(bind: status == .sent ? Timestamp.now() : nil)
                WHERE id = \(bind: id) AND status = 'queued'
                """).run()
        }
    }

    // MARK: Suppression

    private func addressHash(_ address: String, key index: Int) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(address.lowercased().utf8), using: addressKeys[index])
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `address` hard-bounced before (under the current secret key or an earlier one).
    package func isSuppressed(_ address: String) async throws -> Bool {
        let hashes = addressKeys.indices.map { addressHash(address, key: $0) }
        let suppressions = self.suppressions
        return try await database.read { database in
            try await database.select().column("address_hash").from(suppressions).where("address_hash", .in, SQLBind.group(hashes)).first() != nil
        }
    }

    // MARK: Reading and housekeeping

    /// A tenant's emails (or the control plane's, for nil), oldest first, opened.
    package func mail(tenant: String?, limit: Int = 500) async throws -> [StoredMail] {
        let messages = self.messages
        let rows = try await database.read { database in
            let query = database.select().columns("id", "tenant", "template", "status", "sealed", "message_id", "attempts", "last_reply", "created_at", "sent_at")
                .from(messages)
            if let tenant { query.where("tenant", .equal, tenant) } else { query.where("tenant", .is, SQLLiteral.null) }
            return try await query.orderBy("created_at").orderBy("id").limit(limit).all()
        }
        return try rows.map { row in
            let envelope = box.open(try row.decode(column: "sealed", as: String.self)).flatMap { try? JSONDecoder().decode(Envelope.self, from: Data($0.utf8)) }
            return StoredMail(
                id: try row.decode(column: "id", as: String.self), tenant: try row.decode(column: "tenant", as: String?.self),
                template: try row.decode(column: "template", as: String.self),
                status: MailStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .failed,
                recipient: envelope?.recipient ?? "", subject: envelope?.subject ?? "", text: envelope?.text ?? "",
                messageID: try row.decode(column: "message_id", as: String.self), attempts: try row.decode(column: "attempts", as: Int.self),
                lastReply: try row.decode(column: "last_reply", as: String?.self), createdAt: try row.decode(column: "created_at", as: String.self),
                sentAt: try row.decode(column: "sent_at", as: String?.self)
            )
        }
    }

    /// Whether an email with `dedupeKey` was queued (whatever became of it).
    package func isQueued(dedupeKey: String) async throws -> Bool {
        let messages = self.messages
        return try await database.read { database in
            try await database.select().column("id").from(messages).where("dedupe_key", .equal, dedupeKey).first() != nil
        }
    }

    /// Removes a tenant's unsent emails of `template` (their jobs then find nothing to send)
    /// and frees the dedupe keys of those already sent: a provisioning rolled back takes its
    /// welcome email with it, and the retry that follows sends a new one with a working link.
    package func withdraw(tenant: String, template: String) async throws {
        let messages = self.messages
        try await database.transaction { database in
            try await database.delete(from: messages).where("tenant", .equal, tenant).where("template", .equal, template)
                .where("status", .equal, MailStatus.queued.rawValue).run()
            try await database.update(messages).set("dedupe_key", to: SQLLiteral.null).where("tenant", .equal, tenant)
                .where("template", .equal, template).run()
        }
    }

    /// Removes every email of a purged tenant.
    package func purge(tenant: String) async throws {
        let messages = self.messages
        try await database.transaction { database in
            try await database.delete(from: messages).where("tenant", .equal, tenant).run()
        }
    }

    /// Removes messages that reached their end (sent, failed, suppressed) before `cutoff`; the
    /// queued ones stay whatever their age.
    package func removeFinished(before cutoff: Date) async throws {
        let messages = self.messages
        try await database.transaction { database in
            try await database.delete(from: messages).where("status", .in, SQLBind.group([MailStatus.sent, .failed, .suppressed].map(\.rawValue)))
                .where("created_at", .lessThan, Timestamp.text(cutoff)).run()
        }
    }

    /// Emails waiting to be sent, for `email_queue_depth`.
    package func depth() async throws -> Int {
        let messages = self.messages
        return try await database.read { database in
            try await database.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(messages)
                .where("status", .equal, MailStatus.queued.rawValue).first()?.decode(column: "n", as: Int.self) ?? 0
        }
    }
}
