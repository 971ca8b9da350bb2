import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardClinical
import WardCore
import WardMail
import WardTestSupport

@Suite("Email and document pages")
struct MailAndDocumentPagesTests {
    @Test("an administrator rewords an email: previewed, refused with the field named when broken, saved, then back to the built-in; the desk may not",
          arguments: TestBackend.allCases)
    func wording(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("admin@acme.test", roles: ["tenant_admin"])
                try await node.user("desk@acme.test", roles: ["receptionist"])
                let scope = try await node.tenant()
                let templates = try node.services.node.require(Outbox.self, by: "test").templates
                try await node.test { client in
                    let desk = Browser(client)
                    try await desk.signIn("desk@acme.test")
                    #expect(try await desk.get("/app/mail").status == .forbidden)

                    let admin = Browser(client)
                    try await admin.signIn("admin@acme.test")
                    let list = try await admin.get("/app/mail")
                    #expect(list.status == .ok)
                    #expect(list.text.contains(#"<a href="/app/mail/templates/appointment_reminder">"#))
                    let edit = try await admin.get("/app/mail/templates/appointment_reminder")
                    #expect(edit.text.contains("Reminder: your appointment at {{clinic}} on {{when}}"))
                    let token = Browser.formToken(edit.text)

                    var fields = ["subject": "See you soon at {{clinic}}", "text": "Dear {{patient}},\r\nsee you on {{when}}.", "html": "<p>Dear {{patient}}</p>"]
                    fields["action"] = "preview"
                    let preview = try await admin.post("/app/mail/templates/appointment_reminder", fields, token: token)
                    #expect(preview.status == .ok)
                    #expect(preview.text.contains("See you soon at North Clinic"))
                    #expect(preview.text.contains("&lt;p&gt;Dear Ananya Sharma&lt;/p&gt;"))   // HTML shown as source, escaped

                    fields["action"] = "save"
                    fields["html"] = "<p>{{#patient}</p>"
                    let broken = try await admin.post("/app/mail/templates/appointment_reminder", fields, token: token)
                    #expect(broken.status == .unprocessableContent)
                    #expect(broken.text.contains(#"id="field-html-error""#))

                    fields["html"] = "<p>Dear {{patient}}</p>"
                    let saved = try await admin.post("/app/mail/templates/appointment_reminder", fields, token: token)
                    #expect(saved.status == .seeOther)
                    #expect(saved.headers[.location] == "/app/mail?saved=appointment_reminder")
                    let own = try await templates.wording(of: "appointment_reminder", in: scope)
                    #expect(own?.text == "Dear {{patient}},\nsee you on {{when}}.")
                    #expect(try await admin.get("/app/mail").text.contains("The clinic's own"))

                    let reset = try await admin.post("/app/mail/templates/appointment_reminder", ["action": "reset"], token: token)
                    #expect(reset.status == .seeOther)
                    #expect(try await templates.wording(of: "appointment_reminder", in: scope) == nil)
                    #expect(try await admin.post("/app/mail/templates/appointment_reminder", ["action": "reset"], token: nil).status == .forbidden)
                }
            }
        }
    }

    @Test("forgot your password? the sign-in page's link queues an email with a working link and says the same for an unknown address")
    func forgotPassword() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site) { node in
                try await node.user("nurse@acme.test", roles: ["nurse"], name: "Nia Nurse")
                let outbox = try node.services.node.require(Outbox.self, by: "test")
                try await node.test { client in
                    let browser = Browser(client)
                    #expect(try await browser.get("/app/sign-in").text.contains(#"href="/app/forgot-password""#))
                    let form = try await browser.get("/app/forgot-password")
                    let token = Browser.formToken(form.text)
                    let known = try await browser.post("/app/forgot-password", ["clinic": "acme", "email": "nurse@acme.test"], token: token)
                    let unknown = try await browser.post("/app/forgot-password", ["clinic": "acme", "email": "nobody@acme.test"], token: token)
                    #expect(known.status == .ok && unknown.status == .ok)
                    #expect(known.text.contains("a link to set a new password is on its way"))
                    #expect(unknown.text.replacingOccurrences(of: "nobody@acme.test", with: "nurse@acme.test") == known.text)
                    #expect(try await browser.post("/app/forgot-password", ["clinic": "acme", "email": "nurse@acme.test"], token: nil).status == .forbidden)

                    let mail = try await outbox.mail(tenant: "acme")
                    #expect(mail.count == 1)
                    let link = try #require(mail.first?.text.firstMatch(of: /set-password\?token=(\S+)/))
                    let page = try await browser.get("/app/set-password?token=\(link.1)")
                    #expect(page.status == .ok || page.status == .seeOther)
                }
            }
        }
    }

    @Test("the report and a prescription download as PDFs that pdftotext reads; without the permission they do not", arguments: TestBackend.allCases)
    func pdfs(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("doctor@acme.test", roles: ["doctor"], name: "Dana Doctor")
                try await node.user("desk@acme.test", roles: ["receptionist"])
                let scope = try await node.tenant()
                _ = try await node.prescribing.loadStarterFormulary(in: scope, by: .system)
                let patient = try await node.patient("Zoë", "Müller")
                let medication = try #require(try await node.prescribing.medications(matching: "PARA500", limit: 1, in: scope).first)
                try await node.test { client in
                    let doctor = Browser(client)
                    try await doctor.signIn("doctor@acme.test")
                    let chart = try await doctor.get("/app/patients/\(patient.id)/prescribe")
                    let issued = try await doctor.post("/app/patients/\(patient.id)/prescriptions", [
                        "items[0].medication_id": medication.id, "items[0].dose": "1 g", "items[0].route": "oral", "items[0].frequency": "every 6 hours",
                        "items[0].duration_days": "3", "items[0].quantity": "12",
                    ], token: Browser.formToken(chart.text))
                    let sheet = try #require(issued.headers[.location])
                    let page = try await doctor.get(sheet)
                    let link = try #require(page.text.firstMatch(of: /href="(\/app\/patients\/[^"]+\/pdf)"/).map { String($0.1) })
                    let pdf = try await doctor.get(link)
                    #expect(pdf.headers[.contentType] == "application/pdf")
                    let text = try await ExternalTool.pdfText(Data(buffer: pdf.body))
                    #expect(text.contains("Zoë Müller") && text.contains("Paracetamol 500 mg tablet") && text.contains("Verification code"))

                    let reports = try await doctor.get("/app/reports")
                    let reportLink = try #require(reports.text.firstMatch(of: /href="(\/app\/reports\/pdf\?day=[0-9-]+)"/).map { String($0.1) })
                    let report = try await doctor.get(reportLink)
                    #expect(report.headers[.contentType] == "application/pdf")
                    #expect(try await ExternalTool.pdfText(Data(buffer: report.body)).contains("PRESCRIPTIONS ISSUED"))

                    let desk = Browser(client)
                    try await desk.signIn("desk@acme.test")
                    #expect(try await desk.get(link).status == .forbidden)
                    #expect(try await desk.get(reportLink).status == .forbidden)
                }
            }
        }
    }
}
