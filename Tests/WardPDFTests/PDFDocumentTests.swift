import Foundation
import Testing
import WardPDF
import WardTestSupport

/// Documents are checked by independent tools from Debian: qpdf checks the file's structure,
/// pdftotext reads the text back through the embedded font's map, pdffonts lists what is embedded.
@Suite("PDF documents")
struct PDFDocumentTests {
    static let fontPath = "/usr/share/fonts/truetype/freefont/FreeSans.ttf"

    static func freeSans() throws -> PDFTypeface {
        guard case .embedded(let font) = PDFTypeface.load(firstOf: [fontPath]).typeface else {
            Issue.record("FreeSans not found at \(fontPath): install fonts-freefont-ttf")
            throw CancellationError()
        }
        return .embedded(font)
    }

    static let sheet = PrescriptionSheet(
        letterhead: Letterhead(clinicName: "Clínica Saúde", clinicSlug: "saude"), prescriptionID: "01a2b3c4-0000-7000-8000-000000000001",
        issued: "2026-12-03 09:30", status: "active", patientName: "अनन्या शर्मा (Ananya Śarmā)", patientBirthDate: "1990-04-12",
        patientMRN: "MRN-000123", prescriberName: "Dr. Zoë Müller", licenceNumber: "LIC-00042",
        lines: [
            .init(medication: "Amoxicillin 500 mg capsule", dose: "500 mg", route: "oral", frequency: "three times daily", duration: "7",
                  quantity: "21", instructions: "Take with food; finish the course"),
            .init(medication: "Paracetamol 500 mg tablet", dose: "1 g", route: "oral", frequency: "every 6 h as needed", duration: "5",
                  quantity: "20", instructions: ""),
        ],
        verificationCode: "K7QF-29XD-MT"
    )

    @Test("a prescription with a Devanagari name passes qpdf, reads back whole in pdftotext, and embeds a subset font")
    func prescription() async throws {
        let pdf = try Self.sheet.render(try Self.freeSans(), created: Date(timeIntervalSince1970: 1_796_000_000))
        let file = try Self.write(pdf)

        let check = try await ExternalTool.run("qpdf", ["--check", file.path])
        #expect(check.status == 0, "qpdf: \(check.output)")
        #expect(check.output.contains("No syntax or stream encoding errors"))

        let text = try await ExternalTool.run("pdftotext", ["-enc", "UTF-8", file.path, "-"]).output
        for expected in ["अनन्या शर्मा", "Ananya Śarmā", "Amoxicillin 500 mg capsule", "Paracetamol 500 mg tablet", "Dr. Zoë Müller",
                         "LIC-00042", "K7QF-29XD-MT", "Clínica Saúde", "Take with food; finish the course"] {
            #expect(text.contains(expected), "pdftotext lacks \(expected)")
        }

        let fonts = try await ExternalTool.run("pdffonts", [file.path]).output
        let row = try #require(fonts.split(separator: "\n").first { $0.contains("FreeSans") })
        #expect(row.contains("CID TrueType"))
        #expect(row.contains("Identity-H"))
        // emb, sub and uni columns: embedded, a subset, with a Unicode map.
        #expect(row.split(separator: " ").suffix(5).prefix(3).elementsEqual(["yes", "yes", "yes"]))
        // A subset, not the 840 kB font.
        #expect(pdf.count < 60_000, "\(pdf.count) bytes")
    }

    @Test("the same document rendered twice is byte-identical")
    func deterministic() throws {
        let typeface = try Self.freeSans()
        let created = Date(timeIntervalSince1970: 1_796_000_000)
        #expect(try Self.sheet.render(typeface, created: created) == Self.sheet.render(typeface, created: created))
    }

    @Test("a long table runs onto further pages, each numbered, with its header repeated")
    func pagination() async throws {
        var sheet = Self.sheet
        sheet.lines = (1...20).map { .init(medication: "Medication number \($0)", dose: "1 unit", route: "oral", frequency: "daily",
                                            duration: "30", quantity: "\($0)", instructions: "Line \($0) of the instructions, which wrap over more than one line of the table cell") }
        let file = try Self.write(try sheet.render(try Self.freeSans(), created: Date()))
        #expect(try await ExternalTool.run("qpdf", ["--check", file.path]).status == 0)
        let info = try await ExternalTool.run("pdfinfo", [file.path]).output
        let pages = try #require(info.split(separator: "\n").first { $0.hasPrefix("Pages:") }.flatMap { Int($0.split(separator: " ").last ?? "") })
        #expect(pages >= 2)
        let last = try await ExternalTool.run("pdftotext", ["-f", "\(pages)", "-l", "\(pages)", "-enc", "UTF-8", file.path, "-"]).output
        #expect(last.contains("Page \(pages) of \(pages)"))
        #expect(last.contains("Medication"))   // the header row, repeated
        #expect(last.contains("Medication number 20"))
    }

    @Test("the daily report and an invoice render and read back")
    func reportAndInvoice() async throws {
        let typeface = try Self.freeSans()
        let report = DailyReportSheet(letterhead: Letterhead(clinicName: "North Clinic", clinicSlug: "north"), day: "2026-12-02", timeZone: "Asia/Kolkata",
                                      appointments: [("Fulfilled", 12), ("Cancelled", 3), ("No-show", 1), ("Booked", 4)],
                                      patientsRegistered: 5, prescriptionsIssued: 9, generated: "2026-12-03 00:05")
        let reportText = try await ExternalTool.run("pdftotext", ["-layout", "-enc", "UTF-8", try Self.write(try report.render(typeface, created: Date())).path, "-"]).output
        for expected in ["North Clinic", "2026-12-02", "Fulfilled", "No-show", "PRESCRIPTIONS ISSUED"] {
            #expect(reportText.contains(expected), "report lacks \(expected)")
        }
        let invoice = InvoiceSheet(letterhead: Letterhead(clinicName: "North Clinic", clinicSlug: "north"), number: "INV-2026-0001", issued: "2026-12-03",
                                   due: "2027-01-02", billTo: "Ananya Sharma", lines: [.init(description: "Consultation", quantity: 1, unitPrice: "₹800.00", amount: "₹800.00")],
                                   totals: [("Total", "₹800.00")], note: "Thank you.")
        let invoiceFile = try Self.write(try invoice.render(typeface, created: Date()))
        #expect(try await ExternalTool.run("qpdf", ["--check", invoiceFile.path]).status == 0)
        #expect(try await ExternalTool.run("pdftotext", ["-enc", "UTF-8", invoiceFile.path, "-"]).output.contains("₹800.00"))
    }

    @Test("without a font file the document falls back to Helvetica: Latin-1 text reads back, other scripts become ?")
    func helveticaFallback() async throws {
        let loaded = PDFTypeface.load(firstOf: ["/nonexistent/font.ttf"])
        guard case .helvetica = loaded.typeface else { Issue.record("expected the fallback"); return }
        let file = try Self.write(try Self.sheet.render(loaded.typeface, created: Date()))
        #expect(try await ExternalTool.run("qpdf", ["--check", file.path]).status == 0)
        let text = try await ExternalTool.run("pdftotext", ["-enc", "UTF-8", file.path, "-"]).output
        #expect(text.contains("Dr. Zoë Müller"))
        #expect(!text.contains("अनन्या"))
    }

    static func write(_ data: Data) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ward-\(UUID().uuidString).pdf")
        try data.write(to: url)
        return url
    }
}
