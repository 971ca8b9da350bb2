import Foundation
import Testing
import WardMail
import WardTestSupport

/// The message format itself, read back by Python's email package (an independent MIME parser).
@Suite("Email message format")
struct MailMessageTests {
    @Test("text survives the encoding exactly: trailing spaces, long lines, leading dots, other scripts; every line stays within 78 octets")
    func roundTrip() async throws {
        let text = "Line with trailing spaces   \n" + String(repeating: "A long line of words ", count: 12) + "\n.leading dot\nनमस्ते, Zoë — ₹800\n\nend"
        let subject = "Ordonnance n° 42 pour Zoë Müller — rendez-vous confirmé, merci de votre patience: अनन्या शर्मा"
        let message = MailMessage(from: MailAddress("clinic@acme.example", name: "Clínica Acme"), to: MailAddress("zoe@patients.example", name: "Zoë \"Z\" Müller"),
                                  subject: subject, text: text, html: "<p>\(text)</p>",
                                  attachments: [MailAttachment(filename: "résumé de l'ordonnance de Zoë Müller, délivrée le 30 novembre 2026.pdf", mediaType: "application/pdf", data: Data(repeating: 7, count: 5000))],
                                  messageID: "<test@acme.example>", date: Date(timeIntervalSince1970: 1_796_000_000))
        let bytes = message.rendered()
        let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 78 }, "\(lines.filter { $0.utf8.count > 78 })")
        #expect(bytes.allSatisfy { $0 < 0x80 })

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ward-\(UUID().uuidString).eml")
        try Data(bytes).write(to: file)
        let mail = try await ReceivedMail.read(file, save: true)
        #expect(mail.defects.isEmpty)
        #expect(mail.headers["Subject"] == subject)
        #expect(mail.headers["From"] == "Clínica Acme <clinic@acme.example>")
        #expect(mail.headers["To"] == "\"Zoë \\\"Z\\\" Müller\" <zoe@patients.example>" || mail.headers["To"] == "Zoë \"Z\" Müller <zoe@patients.example>")
        #expect(mail.headers["Date"] == "Mon, 30 Nov 2026 00:53:20 +0000")
        #expect(mail.text(of: "text/plain")?.replacingOccurrences(of: "\r\n", with: "\n") == text)
        let attachment = try #require(mail.attachments.first)
        #expect(attachment.filename == "résumé de l'ordonnance de Zoë Müller, délivrée le 30 novembre 2026.pdf" && attachment.size == 5000)
    }
}
