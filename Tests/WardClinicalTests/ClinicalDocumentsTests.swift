import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardClinical
import WardCore
import WardJobs
import WardMail
import WardServer
import WardTestSupport

/// Prescriptions and reports as PDFs, checked with qpdf and pdftotext; the emails that carry
/// them, received by a real SMTP server.
@Suite("Clinical documents and email")
struct ClinicalDocumentsTests {
    static func mailSettings() async throws -> [String: String] {
        let sink = try await MailSink.shared()
        return ["WARD_SMTP_URL": sink.url, "WARD_SMTP_CA_FILE": sink.certificate, "WARD_EMAIL_FROM": "Acme Clinic <clinic@acme.example>",
                "WARD_JOBS_POLL_INTERVAL": "0.02"]
    }

    @Test("a prescription's PDF reads back whole (a Devanagari name included), is audited, and is emailed to the patient with no medication in the body",
          arguments: TestBackend.allCases)
    func prescription(_ backend: TestBackend) async throws {
        let sink = try await MailSink.shared()
        let email = "ananya-\(UUID().uuidString.prefix(8))@patients.example"
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: try await Self.mailSettings()) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"], name: "Dana Doctor")
                try await node.staff("desk@acme.test", roles: ["receptionist"])
                try await node.staff("auditor@acme.test", roles: ["auditor"])
                try await node.staff("admin@acme.test", roles: ["tenant_admin"])
                let scope = try await node.services.storage.tenants.activeScope(slug: "acme")
                _ = try await PrescribingService(audit: node.services.audit).loadStarterFormulary(in: scope, by: .system)
                let services = node.services, logs = node.logs
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test")
                    #expect(try await client.send(.post, "/api/v1/practitioners", token: try await client.token("admin@acme.test"),
                                                  json: ["name": "Dana Doctor", "email": "Doctor@acme.test", "licence_number": "LIC-4242"]).status == .created)
                    let patient = try await client.patient(doctor, ["given_name": "अनन्या", "family_name": "Śarmā", "email": email])
                    let amoxicillin = try #require((try await client.send(.get, "/api/v1/medications?q=AMOX500", token: doctor).json["items"] as? [[String: Any]])?.first?["id"] as? String)
                    let issued = try await client.send(.post, "/api/v1/prescriptions", token: doctor, json: [
                        "patient_id": patient, "items": [["medication_id": amoxicillin, "dose": "500 mg", "route": "oral", "frequency": "three times daily",
                                                          "duration_days": 7, "quantity": 21, "instructions": "Take with food"]],
                    ])
                    let id = try #require(issued.json["id"] as? String)

                    let pdf = try await client.send(.get, "/api/v1/prescriptions/\(id)/pdf", token: doctor)
                    #expect(pdf.status == .ok)
                    #expect(pdf.headers[.contentType] == "application/pdf")
                    #expect(pdf.headers[.cacheControl] == "no-store")
                    let data = Data(buffer: pdf.body)
                    #expect(try await ExternalTool.pdfIsSound(data))
                    let text = try await ExternalTool.pdfText(data)
                    for expected in ["अनन्या Śarmā", "Amoxicillin 500 mg capsule", "Take with food", "LIC-4242", "Dana Doctor", "Acme"] {
                        #expect(text.contains(expected), "the PDF lacks \(expected)")
                    }
                    let code = try #require(text.firstMatch(of: /Verification code: ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{2})/).map { String($0.1) })

                    let desk = try await client.token("desk@acme.test")
                    #expect(try await client.send(.get, "/api/v1/prescriptions/\(id)/pdf", token: desk).status == .forbidden)
                    #expect(try await client.send(.get, "/api/v1/prescriptions/01a20000-0000-7000-8000-000000000000/pdf", token: doctor).status == .notFound)

                    // The patient's email: sent by the job, the PDF attached, no clinical detail in the body.
                    try await runWorkers([NodeJobs.worker(services)], until: { !sink.messages(to: email).isEmpty })
                    let mail = try await ReceivedMail.read(try #require(sink.messages(to: email).first), save: true)
                    #expect(mail.headers["Subject"] == "Your prescription from Acme")
                    let body = try #require(mail.text(of: "text/plain"))
                    #expect(body.contains(code))
                    #expect(!body.contains("Amoxicillin"))
                    let attachment = try #require(mail.attachments.first)
                    #expect(attachment.type == "application/pdf")
                    let attached = try Data(contentsOf: URL(fileURLWithPath: try #require(attachment.saved)))
                    #expect(try await ExternalTool.pdfIsSound(attached))
                    #expect(try await ExternalTool.pdfText(attached).contains("Amoxicillin 500 mg capsule"))

                    // The trail shows the PDF read and the disclosure by email.
                    let auditor = try await client.token("auditor@acme.test")
                    let log = try #require(try await client.send(.get, "/api/v1/patients/\(patient)/access-log", token: auditor).json["items"] as? [[String: Any]])
                    let pdfRead = log.first { $0["resource_type"] as? String == "prescription" && $0["action"] as? String == "read" }
                    #expect((pdfRead?["details"] as? [String: String])?["format"] == "pdf")
                    #expect(log.contains { $0["action"] as? String == "disclose" && ($0["details"] as? [String: String])?["channel"] == "email" })

                    // The node's log lines name the email's id and template, never its content.
                    #expect(logs.lines.contains { $0.contains("email sent") && $0.contains("prescription") })
                    for secret in ["Amoxicillin", "Śarmā", email, code] {
                        #expect(!logs.lines.contains { $0.contains(secret) }, "a log line holds \(secret)")
                    }
                }
            }
        }
    }

    @Test("the daily report answers JSON, or PDF by Accept or format; a bad date is 400; administrators get it by email after the job", arguments: TestBackend.allCases)
    func dailyReport(_ backend: TestBackend) async throws {
        let sink = try await MailSink.shared()
        let admin = "admin-\(UUID().uuidString.prefix(8))@acme.test"
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: try await Self.mailSettings()) { node in
                try await node.staff(admin, roles: ["tenant_admin"], name: "Ada Admin")
                try await node.staff("nurse@acme.test", roles: ["nurse"])
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                let services = node.services
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test")
                    _ = try await client.patient(doctor, ["given_name": "Zoë", "family_name": "Müller"])
                    let today = DailyReport.day(endingAt: Date(), in: .gmt)

                    let json = try await client.send(.get, "/api/v1/reports/daily?date=\(today)", token: doctor)
                    #expect(json.status == .ok)
                    #expect(json.json["patients_registered"] as? Int == 1)
                    for (query, headers) in [("date=\(today)", HTTPFields([HTTPField(name: .accept, value: "application/pdf")])), ("date=\(today)&format=pdf", HTTPFields())] {
                        let pdf = try await client.send(.get, "/api/v1/reports/daily?\(query)", token: doctor, headers: headers)
                        #expect(pdf.headers[.contentType] == "application/pdf")
                        let text = try await ExternalTool.pdfText(Data(buffer: pdf.body))
                        #expect(text.contains("Acme") && text.contains(today) && text.contains("NEW PATIENTS"))
                    }
                    #expect(try await client.send(.get, "/api/v1/reports/daily?date=2026-02-30", token: doctor).status == .badRequest)
                    #expect(try await client.send(.get, "/api/v1/reports/daily", token: try await client.token("nurse@acme.test")).status == .forbidden)

                    _ = try await services.queue.enqueue(try JobQueue.Request(kind: ClinicalModule.dailyReportKind, payload: ["day": today], tenant: "acme", maxAttempts: 2))
                    try await runWorkers([NodeJobs.worker(services)], until: { !sink.messages(to: admin).isEmpty })
                    let mail = try await ReceivedMail.read(try #require(sink.messages(to: admin).first), save: true)
                    #expect(mail.headers["Subject"] == "Acme: daily report for \(today)")
                    let attached = try Data(contentsOf: URL(fileURLWithPath: try #require(mail.attachments.first?.saved)))
                    #expect(try await ExternalTool.pdfText(attached).contains("PRESCRIPTIONS ISSUED"))
                }
            }
        }
    }

    @Test("a booking is confirmed by email with a calendar file; the reminder comes a day before, and not for a cancelled appointment")
    func appointmentEmails() async throws {
        let sink = try await MailSink.shared()
        let email = "patient-\(UUID().uuidString.prefix(8))@patients.example"
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: try await Self.mailSettings()) { node in
                try await node.staff("desk@acme.test", roles: ["receptionist"])
                try await node.staff("admin@acme.test", roles: ["tenant_admin"])
                let services = node.services, clock = node.clock
                try await node.test { client in
                    let desk = try await client.token("desk@acme.test")
                    let patient = try await client.patient(desk, ["given_name": "Yuki", "family_name": "Tanaka", "email": email])
                    let practitioner = try #require(try await client.send(.post, "/api/v1/practitioners", token: try await client.token("admin@acme.test"), json: ["name": "Dr Asha Rao"]).json["id"] as? String)
                    let start = Date().addingTimeInterval(3 * 86_400).timeIntervalSince1970.rounded()
                    func book(_ offset: Double) async throws -> (id: String, version: Int) {
                        let response = try await client.send(.post, "/api/v1/appointments", token: desk, json: [
                            "patient_id": patient, "practitioner_id": practitioner,
                            "start": Timestamp.text(Date(timeIntervalSince1970: start + offset)), "end": Timestamp.text(Date(timeIntervalSince1970: start + offset + 1800)),
                        ])
                        return (try #require(response.json["id"] as? String), response.json["version"] as? Int ?? 1)
                    }
                    let kept = try await book(0)
                    let cancelled = try await book(7200)
                    // A patient who declined reminders: the confirmation only.
                    let declined = "declined-\(UUID().uuidString.prefix(8))@patients.example"
                    let quiet = try await client.patient(desk, ["given_name": "Ola", "family_name": "Nordmann", "email": declined, "email_reminders": false])
                    #expect(try await client.send(.post, "/api/v1/appointments", token: desk, json: [
                        "patient_id": quiet, "practitioner_id": practitioner,
                        "start": Timestamp.text(Date(timeIntervalSince1970: start + 14_400)), "end": Timestamp.text(Date(timeIntervalSince1970: start + 16_200)),
                    ]).status == .created)
                    #expect(try await client.send(.post, "/api/v1/appointments/\(cancelled.id)/status", token: desk, json: ["status": "cancelled"],
                                                  headers: [.ifMatch: "\"\(cancelled.version)\""]).status == .ok)

                    let worker = NodeJobs.worker(services), queue = services.queue
                    try await runWorkers([worker], until: { sink.messages(to: email).count >= 1 })
                    let confirmation = try await ReceivedMail.read(try #require(sink.messages(to: email).first), save: true)
                    #expect(confirmation.headers["Subject"]?.hasPrefix("Your appointment at Acme on ") == true)
                    let invite = try #require(confirmation.attachments.first)
                    #expect(invite.type == "text/calendar" && invite.filename == "appointment.ics")
                    let calendar = try String(contentsOfFile: try #require(invite.saved), encoding: .utf8)
                    #expect(calendar.contains("UID:\(kept.id)@acme.ward"))
                    #expect(calendar.contains("DTSTART:\(Self.icsTime(start))"))

                    // A day before: the reminder of the kept appointment only.
                    clock.advance(by: .seconds(2 * 86_400 + 3 * 3600))
                    try await runWorkers([worker], until: {
                        let notices = try await queue.list(kind: ClinicalMail.appointmentKind, limit: 20)
                        let sends = try await queue.list(kind: Outbox.sendKind, limit: 50)
                        return (notices + sends).allSatisfy { $0.state.isFinished }
                    })
                    let received = await Self.subjects(sink.messages(to: email))
                    #expect(received.filter { $0?.hasPrefix("Reminder:") == true }.count == 1)
                    #expect(received.count == 2, "\(received)")
                    let quietMail = await Self.subjects(sink.messages(to: declined))
                    #expect(quietMail.count == 1 && quietMail.first??.hasPrefix("Your appointment") == true, "\(quietMail)")
                }
            }
        }
    }

    /// Each message's subject as Python's email package reads it; nil where it could not.
    static func subjects(_ files: [URL]) async -> [String?] {
        var subjects: [String?] = []
        for file in files { subjects.append(try? await ReceivedMail.read(file).headers["Subject"] ?? "") }
        return subjects
    }

    static func icsTime(_ seconds: Double) -> String {
        Timestamp.format(Date(timeIntervalSince1970: seconds), "yyyyMMdd'T'HHmmss'Z'")
    }
}
