import Crypto
import Foundation
import HummingbirdTesting
import Testing
import WardJobs
import WardMail
import WardCore
import WardServer
import WardTestSupport

/// Delivery through a real SMTP server (aiosmtpd on loopback, STARTTLS and AUTH), each message
/// read back by Python's email package.
@Suite("Email delivery")
struct MailDeliveryTests {
    static let notice = MailTemplate(
        name: "test_notice", summary: "A test notice",
        subject: "Ordonnance prête — {{name}}",
        text: "Bonjour {{name}},\n\nYour document is attached. Amount: {{amount}} <not html>.\n.A line starting with a dot\n",
        html: "<p>Bonjour <strong>{{name}}</strong>, amount {{amount}}</p>",
        sample: ["name": "Zoë", "amount": "₹800"]
    )

    /// Settings that send through `sink`, trusting its certificate, with quick job polling.
    static func settings(_ sink: MailSink, port: Int? = nil, extra: [String: String] = [:]) throws -> [String: String] {
        var settings = ["WARD_SMTP_URL": port.map { "smtp://\(MailSink.user):\(MailSink.password)@localhost:\($0)" } ?? sink.url,
                        "WARD_SMTP_CA_FILE": sink.certificate, "WARD_EMAIL_FROM": "North Clinic <ward@north.example>",
                        "WARD_JOBS_POLL_INTERVAL": "0.02"]
        settings.merge(extra) { $1 }
        return settings
    }

    static func outbox(_ node: TestNode) throws -> Outbox {
        let outbox = try node.services.node.require(Outbox.self, by: "test")
        if outbox.templates.builtIn(notice.name) == nil { outbox.templates.register([notice]) }
        return outbox
    }

    static func status(_ outbox: Outbox, _ id: String) async throws -> StoredMail? {
        try await outbox.mail(tenant: nil).first { $0.id == id }
    }

    /// The job sending message `id`.
    static func job(_ queue: JobQueue, _ id: String) async throws -> Job? {
        try await queue.list(kind: Outbox.sendKind, limit: 100).first { $0.payload.contains(id) }
    }

    @Test("a message with text and HTML, a PDF and a non-ASCII subject arrives over STARTTLS with AUTH, byte for byte", arguments: TestBackend.allCases)
    func delivered(_ backend: TestBackend) async throws {
        let sink = try await MailSink.shared()
        let recipient = "ananya.\(backend)@patients.example"
        let pdf = Data((0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: try Self.settings(sink)) { node in
                let outbox = try Self.outbox(node)
                let id = try #require(try await outbox.send(Letter(
                    template: Self.notice.name, tenant: nil, recipient: MailAddress(recipient, name: "अनन्या शर्मा"), values: ["name": "Zoë Müller", "amount": "₹800"],
                    attachments: [MailAttachment(filename: "ordonnance-é.pdf", mediaType: "application/pdf", data: pdf)], dedupeKey: "delivered-\(backend)")))
                #expect(try await outbox.send(Letter(template: Self.notice.name, tenant: nil, recipient: MailAddress(recipient), values: [:],
                                                    dedupeKey: "delivered-\(backend)")) == nil)

                try await runWorkers([NodeJobs.worker(node.services)], until: { try await Self.status(outbox, id)?.status == .sent })
                let files = try await sink.waitFor(1, to: recipient)
                #expect(files.count == 1)
                let mail = try await ReceivedMail.read(try #require(files.first))
                #expect(mail.defects.isEmpty)
                #expect(mail.headers["Subject"] == "Ordonnance prête — Zoë Müller")
                #expect(mail.headers["From"] == "North Clinic <ward@north.example>")
                #expect(mail.headers["To"] == "अनन्या शर्मा <\(recipient)>")
                #expect(mail.headers["Message-ID"] == (try await Self.status(outbox, id))?.messageID)
                #expect(mail.headers["Message-ID"]?.hasSuffix("@north.example>") == true)
                #expect(mail.headers["Date"] != nil)
                // Plain text carries values as they are; HTML escapes them; a leading dot survives SMTP.
                #expect(mail.text(of: "text/plain")?.contains("Amount: ₹800 <not html>.") == true)
                #expect(mail.text(of: "text/plain")?.contains("\n.A line starting with a dot") == true)
                #expect(mail.text(of: "text/html")?.contains("<strong>Zoë Müller</strong>") == true)
                let attachment = try #require(mail.attachments.first)
                #expect(attachment.filename == "ordonnance-é.pdf" && attachment.type == "application/pdf" && attachment.size == pdf.count)
                #expect(attachment.sha256 == Self.sha256(pdf))
                #expect(try await Self.status(outbox, id)?.attempts == 1)
            }
        }
    }

    @Test("451 then 250: retried after the letter's interval and delivered once; metrics count both outcomes")
    func temporaryFailure() async throws {
        let sink = try await MailSink.shared()
        let recipient = "tempfail-\(UUID().uuidString.prefix(8))@patients.example"
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: try Self.settings(sink)) { node in
                let outbox = try Self.outbox(node), queue = node.services.queue
                let id = try #require(try await outbox.send(Letter(template: Self.notice.name, tenant: nil, recipient: MailAddress(recipient),
                                                                   values: ["name": "A", "amount": "1"], retries: (attempts: 4, every: .seconds(60)))))
                let worker = NodeJobs.worker(node.services)
                let beforeFirst = node.clock.now
                try await runWorkers([worker], until: { try await Self.job(queue, id)?.state == .failed })
                let afterFirst = try #require(try await Self.status(outbox, id))
                #expect(afterFirst.status == .queued)
                #expect(afterFirst.lastReply?.contains("451") == true)
                #expect(sink.messages(to: recipient).isEmpty)
                // The retry is due 60 s after the attempt, as the letter asked: not before. (The
                // test clock also moves with the wall's, and the attempt may take seconds on a
                // loaded machine: measured from before it.)
                let job = try #require(try await Self.job(queue, id))
                let due = try #require(Timestamp.date(job.runAt))
                #expect(due.timeIntervalSince(beforeFirst) >= 59.9)
                node.clock.advance(by: .seconds(61))
                try await runWorkers([worker], until: { try await Self.status(outbox, id)?.status == .sent })
                #expect(try await sink.waitFor(1, to: recipient).count == 1)
                #expect(try await Self.status(outbox, id)?.attempts == 2)
                try await node.test { client in
                    let metrics = try await client.execute(uri: "/metrics", method: .get).text
                    #expect(metrics.contains(#"emails_sent_total{template="test_notice",outcome="retried"} 1"#))
                    #expect(metrics.contains(#"emails_sent_total{template="test_notice",outcome="sent"} 1"#))
                    #expect(metrics.contains("email_queue_depth 0"))
                }
            }
        }
    }

    @Test("550: dead at once with the server's reply; the address is suppressed and never written to again", arguments: TestBackend.allCases)
    func permanentFailure(_ backend: TestBackend) async throws {
        let sink = try await MailSink.shared()
        let recipient = "reject-\(UUID().uuidString.prefix(8))@patients.example"
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: try Self.settings(sink)) { node in
                let outbox = try Self.outbox(node), queue = node.services.queue
                let id = try #require(try await outbox.send(Letter(template: Self.notice.name, tenant: nil, recipient: MailAddress(recipient),
                                                                   values: ["name": "A", "amount": "1"], retries: (attempts: 4, every: .seconds(1)))))
                try await runWorkers([NodeJobs.worker(node.services)], until: { try await Self.job(queue, id)?.state.isFinished == true })
                let failed = try #require(try await Self.status(outbox, id))
                #expect(failed.attempts == 1)
                #expect(failed.lastReply?.contains("550 5.1.1") == true)
                let job = try #require(try await Self.job(queue, id))
                #expect(job.state == .dead && job.attempts == 1)
                #expect(job.lastError?.contains("550") == true)

                #expect(try await outbox.isSuppressed(recipient.uppercased()))
                let again = try #require(try await outbox.send(Letter(template: Self.notice.name, tenant: nil, recipient: MailAddress(recipient),
                                                                      values: ["name": "A", "amount": "1"])))
                #expect(try await Self.status(outbox, again)?.status == .suppressed)
            }
        }
    }

    @Test("with the server down the message waits and is retried; when the server returns it is delivered, once")
    func serverDown() async throws {
        // A sink started and stopped: its port is known and, for now, nothing listens there.
        let first = try await MailSink.start()
        let port = first.port
        try await first.stop()
        let recipient = "down-\(UUID().uuidString.prefix(8))@patients.example"
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: try Self.settings(first, port: port)) { node in
                let outbox = try Self.outbox(node), queue = node.services.queue
                let id = try #require(try await outbox.send(Letter(template: Self.notice.name, tenant: nil, recipient: MailAddress(recipient),
                                                                   values: ["name": "A", "amount": "1"], retries: (attempts: 4, every: .seconds(60)))))
                let worker = NodeJobs.worker(node.services)
                try await runWorkers([worker], until: { try await Self.job(queue, id)?.state == .failed })
                let waiting = try #require(try await Self.status(outbox, id))
                #expect(waiting.status == .queued)
                #expect(waiting.lastReply?.isEmpty == false)

                let back = try await MailSink.start(port: port)
                defer { back.close() }
                node.clock.advance(by: .seconds(61))
                try await runWorkers([worker], until: { try await Self.status(outbox, id)?.status == .sent })
                #expect(try await back.waitFor(1, to: recipient).count == 1)
            }
        }
    }

    @Test("smtps:// speaks TLS from the first byte, and AUTH LOGIN serves a relay that offers no PLAIN")
    func implicitTLSAndLogin() async throws {
        let sink = try await MailSink.start(implicitTLS: true, loginOnly: true)
        defer { sink.close() }
        let recipient = "smtps-\(UUID().uuidString.prefix(8))@patients.example"
        try await withTestSite(.sqlite) { site in
            let settings = try Self.settings(sink, extra: ["WARD_SMTP_URL": "smtps://\(MailSink.user):\(MailSink.password)@localhost:\(sink.port)"])
            try await TestNode.with(site, settings: settings) { node in
                let outbox = try Self.outbox(node)
                let id = try #require(try await outbox.send(Letter(template: Self.notice.name, tenant: nil, recipient: MailAddress(recipient),
                                                                   values: ["name": "A", "amount": "1"])))
                try await runWorkers([NodeJobs.worker(node.services)], until: { try await Self.status(outbox, id)?.status == .sent })
                #expect(try await sink.waitFor(1, to: recipient).count == 1)
            }
        }
    }

    @Test("a relay with a certificate this node does not trust is not sent to: the message waits, the reply names the failure")
    func untrustedRelay() async throws {
        let sink = try await MailSink.shared()
        let recipient = "untrusted-\(UUID().uuidString.prefix(8))@patients.example"
        try await withTestSite(.sqlite) { site in
            var settings = try Self.settings(sink)
            settings["WARD_SMTP_CA_FILE"] = nil
            try await TestNode.with(site, settings: settings) { node in
                let outbox = try Self.outbox(node), queue = node.services.queue
                let id = try #require(try await outbox.send(Letter(template: Self.notice.name, tenant: nil, recipient: MailAddress(recipient),
                                                                   values: ["name": "A", "amount": "1"])))
                try await runWorkers([NodeJobs.worker(node.services)], until: { try await Self.job(queue, id)?.state == .failed })
                #expect(try await Self.status(outbox, id)?.status == .queued)
                #expect(sink.messages(to: recipient).isEmpty)
            }
        }
    }

    @Test("with a DKIM key configured, the signature verifies (dkimpy) against the published public key")
    func dkim() async throws {
        let sink = try await MailSink.shared()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ward-dkim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let key = directory.appendingPathComponent("dkim.pem").path, publicKey = directory.appendingPathComponent("dkim.pub").path
        #expect(try await Self.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key]) == 0)
        #expect(try await Self.run(["openssl", "rsa", "-in", key, "-pubout", "-out", publicKey]) == 0)
        let recipient = "dkim-\(UUID().uuidString.prefix(8))@patients.example"
        try await withTestSite(.sqlite) { site in
            let settings = try Self.settings(sink, extra: ["WARD_EMAIL_DKIM_SELECTOR": "ward2026", "WARD_EMAIL_DKIM_KEY_FILE": key])
            try await TestNode.with(site, settings: settings) { node in
                let outbox = try Self.outbox(node)
                let id = try #require(try await outbox.send(Letter(
                    template: Self.notice.name, tenant: nil, recipient: MailAddress(recipient, name: "Zoë"), values: ["name": "Zoë   Müller", "amount": "1"],
                    attachments: [MailAttachment(filename: "a.pdf", mediaType: "application/pdf", data: Data("%PDF-1.7".utf8))])))
                try await runWorkers([NodeJobs.worker(node.services)], until: { try await Self.status(outbox, id)?.status == .sent })
                let file = try #require(try await sink.waitFor(1, to: recipient).first)
                let mail = try await ReceivedMail.read(file, dkimKey: publicKey)
                #expect(mail.headers["DKIM-Signature"]?.contains("d=north.example") == true)
                #expect(mail.headers["DKIM-Signature"]?.contains("s=ward2026") == true)
                #expect(mail.dkimValid == true)
            }
        }
    }

    @Test("without a relay each email is written as an .eml file under the data directory that a mail reader opens")
    func fileTransport() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: ["WARD_JOBS_POLL_INTERVAL": "0.02"]) { node in
                let outbox = try Self.outbox(node)
                let id = try #require(try await outbox.send(Letter(template: Self.notice.name, tenant: nil, recipient: MailAddress("file@patients.example"),
                                                                   values: ["name": "Zoë", "amount": "2"])))
                try await runWorkers([NodeJobs.worker(node.services)], until: { try await Self.status(outbox, id)?.status == .sent })
                let directory = URL(fileURLWithPath: node.services.settings.dataDirectory).appendingPathComponent("mail")
                let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil).filter { $0.pathExtension == "eml" }
                #expect(files.count == 1)
                let mail = try await ReceivedMail.read(try #require(files.first))
                #expect(mail.headers["Subject"] == "Ordonnance prête — Zoë")
                #expect(mail.headers["To"] == "file@patients.example")
                let permissions = try FileManager.default.attributesOfItem(atPath: try #require(files.first).path)[.posixPermissions] as? Int
                #expect(permissions == 0o600)
            }
        }
    }

    @Test("a tenant over its sending rate has further emails scheduled a minute on, none dropped")
    func rate() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: ["WARD_EMAIL_RATE_PER_MINUTE": "2"]) { node in
                let outbox = try Self.outbox(node), queue = node.services.queue
                // Each delay is measured from its own sending, so a slow machine does not shrink it.
                var sent: [(id: String, at: Date)] = []
                for index in 0..<5 {
                    let at = node.clock.now
                    sent.append((try #require(try await outbox.send(Letter(template: Self.notice.name, tenant: "acme", recipient: MailAddress("p\(index)@patients.example"),
                                                                           values: ["name": "A", "amount": "1"]))), at))
                }
                var delays: [Double] = []
                for (id, at) in sent {
                    let job = try #require(try await Self.job(queue, id))
                    delays.append(try #require(Timestamp.date(job.runAt)).timeIntervalSince(at))
                }
                #expect(delays[0] < 5 && delays[1] < 5)
                #expect(delays[2] > 55 && delays[3] > 55 && delays[4] > 115, "\(delays)")
                #expect(try await outbox.mail(tenant: "acme").count == 5)
            }
        }
    }

    @Test("housekeeping removes messages that reached their end, and keeps the ones still queued")
    func housekeeping() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: ["WARD_JOBS_POLL_INTERVAL": "0.02"]) { node in
                let outbox = try Self.outbox(node)
                let sent = try #require(try await outbox.send(Letter(template: Self.notice.name, tenant: nil, recipient: MailAddress("old@patients.example"),
                                                                     values: ["name": "A", "amount": "1"])))
                try await runWorkers([NodeJobs.worker(node.services)], until: { try await Self.status(outbox, sent)?.status == .sent })
                let waiting = try #require(try await outbox.send(Letter(template: Self.notice.name, tenant: nil, recipient: MailAddress("new@patients.example"),
                                                                        values: ["name": "B", "amount": "2"])))
                try await outbox.removeFinished(before: node.clock.now.addingTimeInterval(60))
                #expect(try await outbox.mail(tenant: nil).map(\.id) == [waiting])
            }
        }
    }

    static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    static func run(_ arguments: [String]) async throws -> Int32 {
        try await offThePool { try runBlocking(arguments) }
    }

    private static func runBlocking(_ arguments: [String]) throws -> Int32 {
        let process = TestProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.runAlone()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
