import Foundation
import Testing
import WardServer
import WardTestSupport

/// An issued invoice reaches the patient: its PDF attached, received by a real SMTP server.
@Suite("Invoice email")
struct InvoiceMailTests {
    @Test("issuing an invoice mails the patient its PDF; the body names the amount and no treatment")
    func issuedInvoiceIsMailed() async throws {
        let sink = try await MailSink.shared()
        let email = "payer-\(UUID().uuidString.prefix(8))@patients.example"
        let settings = ["WARD_SMTP_URL": sink.url, "WARD_SMTP_CA_FILE": sink.certificate, "WARD_EMAIL_FROM": "Acme Clinic <clinic@acme.example>",
                        "WARD_JOBS_POLL_INTERVAL": "0.02"]
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: settings) { node in
                try await node.clinic()
                let services = node.services
                try await node.test { client in
                    let clerk = try await client.token("clerk@acme.test")
                    let patient = try await client.patient(try await client.token("desk@acme.test"), email: email)
                    let invoice = try await client.issuedInvoice(clerk, patient: patient, lines: [["description": "Physiotherapy session", "unit_amount": 7_550]])
                    let number = try #require(invoice["number"] as? String)
                    try await runWorkers([NodeJobs.worker(services)], until: { !sink.messages(to: email).isEmpty })
                    let mail = try await ReceivedMail.read(try #require(sink.messages(to: email).first), save: true)
                    #expect(mail.headers["Subject"] == "Your invoice \(number) from Acme")
                    let body = try #require(mail.text(of: "text/plain"))
                    #expect(body.contains("75.50 USD"))
                    #expect(!body.contains("Physiotherapy"))
                    let attachment = try #require(mail.attachments.first)
                    #expect(attachment.type == "application/pdf")
                    let pdf = try Data(contentsOf: URL(fileURLWithPath: try #require(attachment.saved)))
                    #expect(try await ExternalTool.pdfIsSound(pdf))
                    #expect(try await ExternalTool.pdfText(pdf).contains("Physiotherapy session"))
                }
            }
        }
    }
}
