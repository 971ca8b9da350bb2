import Crypto
package import Foundation
import NIOPosix
import SQLKit
package import WardAudit
package import WardCore
package import WardIdentity
package import WardPDF
package import WardStorage

/// Prescriptions and daily reports as PDF documents: read from the tenant's records, laid out
/// by `WardPDF` off the event loop, in the typeface the node found at start-up. A prescription
/// carries a verification code derived from the node's secret, which the clinic can check when
/// a pharmacy quotes it.
package struct ClinicalDocuments: Sendable {
    package let typeface: PDFTypeface
    let audit: AuditTrail
    let identity: IdentityService
    let protection: PatientProtection
    private let verificationKey: SymmetricKey

    /// Fonts tried in order when `WARD_PDF_FONT` is unset: FreeSans covers Latin, Greek,
    /// Cyrillic and Devanagari; Noto Sans and DejaVu Sans are common fallbacks.
    static let fontCandidates = [
        "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    ]

    package init(settings: WardSettings, audit: AuditTrail, identity: IdentityService, protection: PatientProtection, typeface: PDFTypeface) {
        self.audit = audit
        self.identity = identity
        self.protection = protection
        self.typeface = typeface
        verificationKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Data((settings.secretKey ?? "").utf8)),
                                                 info: Data("ward prescription verification v1".utf8), outputByteCount: 32)
    }

    /// The typeface `settings` name, else the first candidate found; what went wrong on the way.
    package static func typeface(_ settings: WardSettings) -> (typeface: PDFTypeface, problems: [String]) {
        if let path = settings.mail.pdfFont {
            let loaded = PDFTypeface.load(firstOf: [path])
            if case .helvetica = loaded.typeface {
                return (loaded.typeface, loaded.problems.isEmpty ? ["WARD_PDF_FONT: \(path) does not exist"] : loaded.problems)
            }
            return loaded
        }
        return PDFTypeface.load(firstOf: fontCandidates)
    }

    /// A short code for `prescription` that only this installation can compute: ten characters
    /// of an HMAC over its id, issue time and items.
    package func verificationCode(for prescription: Prescription) -> String {
        // Fields joined by a unit separator (no field holds control characters): the same
        // prescription gives the same code in every process.
        let fields = [prescription.id, prescription.issuedAt] + prescription.items.flatMap { item in
            [item.medicationID, item.dose, item.route, item.frequency, String(item.durationDays), String(item.quantity), item.instructions ?? ""]
        }
        let mac = HMAC<SHA256>.authenticationCode(for: Data(fields.joined(separator: "\u{1F}").utf8), using: verificationKey)
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        let characters = Array(mac).prefix(10).map { alphabet[Int($0) % alphabet.count] }
        return String(characters[0..<4]) + "-" + String(characters[4..<8]) + "-" + String(characters[8..<10])
    }

    /// What a prescription's PDF shows, read in one pass over the tenant's records.
    struct PrescriptionRecord: Sendable {
        let prescription: Prescription
        let patientName: String
        let patientEmail: String?
        let sheet: PrescriptionSheet
    }

    func record(of id: String, in scope: TenantScope) async throws -> PrescriptionRecord {
        let prescriptions = try scope.table("prescriptions"), patients = try scope.table("patients")
        let medications = try scope.table("medications"), practitioners = try scope.table("practitioners")
        var (prescription, patient, names, licence) = try await scope.read { database in
            guard let row = try await database.select().columns("id", "patient_id", "prescriber_id", "prescriber_name", "status", "issued_at", "items", "version")
                .from(prescriptions).where("id", .equal, id).first() else { throw ClinicalError.notFound("prescription") }
            let prescription = try PrescribingService.prescription(from: row)
            let patient = try await database.select().columns("given_name", "family_name", "birth_date", "mrn", "email").from(patients)
                .where("id", .equal, prescription.patientID).first()
            var names: [String: String] = [:]
            for medication in try await database.select().columns("id", "name", "strength", "form").from(medications)
                .where("id", .in, SQLBind.group(prescription.items.map(\.medicationID))).all() {
                names[try medication.decode(column: "id", as: String.self)] = [
                    try medication.decode(column: "name", as: String.self), try medication.decode(column: "strength", as: String.self),
                    try medication.decode(column: "form", as: String.self),
                ].filter { !$0.isEmpty }.joined(separator: " ")
            }
            let licence = try await database.select().column("licence_number").from(practitioners)
                .where("user_id", .equal, prescription.prescriberID).first()?.decode(column: "licence_number", as: String?.self)
            return (prescription, patient, names, licence)
        }
        // A practitioner record not linked to the prescriber's account is found by its email.
        if licence == nil, let email = try? await identity.user(prescription.prescriberID, in: scope).email {
            licence = try await scope.read { database in
                try await database.select().column("licence_number").from(practitioners).where(SQLFunction("lower", args: SQLColumn("email")), .equal, SQLBind(email.lowercased()))
                    .where("active", .equal, 1).first()?.decode(column: "licence_number", as: String?.self)
            }
        }
        let given = try patient?.decode(column: "given_name", as: String.self) ?? ""
        let family = try patient?.decode(column: "family_name", as: String.self) ?? ""
        let birthDate = try await protection.open(try patient?.decode(column: "birth_date", as: String?.self), column: "birth_date",
                                                  patientID: prescription.patientID, in: scope)
        let patientEmail = try await protection.open(try patient?.decode(column: "email", as: String?.self), column: "email",
                                                     patientID: prescription.patientID, in: scope)
        let patientName = "\(given) \(family)".trimmingCharacters(in: .whitespaces)
        let sheet = PrescriptionSheet(
            letterhead: Letterhead(clinicName: scope.tenant.name, clinicSlug: scope.tenant.slug), prescriptionID: prescription.id,
            issued: Self.localTime(prescription.issuedAt, zone: scope.tenant.timeZone), status: prescription.status, patientName: patientName,
            patientBirthDate: birthDate ?? "—",
            patientMRN: try patient?.decode(column: "mrn", as: String.self) ?? "—",
            prescriberName: prescription.prescriberName ?? "—", licenceNumber: licence ?? "—",
            lines: prescription.items.map { item in
                PrescriptionSheet.Line(medication: names[item.medicationID] ?? item.medicationID, dose: item.dose, route: item.route,
                                       frequency: item.frequency, duration: String(item.durationDays), quantity: String(item.quantity),
                                       instructions: item.instructions ?? "")
            },
            verificationCode: verificationCode(for: prescription)
        )
        return PrescriptionRecord(prescription: prescription, patientName: patientName,
                                  patientEmail: patientEmail, sheet: sheet)
    }

    /// The prescription as a PDF, audited as a read of the patient's record.
    package func prescriptionPDF(_ id: String, in scope: TenantScope, by actor: AuditActor) async throws -> Data {
        try await prescriptionDocument(id, in: scope, by: actor).pdf
    }

    /// The prescription as a PDF with the patient it is for, audited as a read of the record.
    package func prescriptionDocument(_ id: String, in scope: TenantScope, by actor: AuditActor) async throws -> (pdf: Data, patientID: String, issued: String) {
        let record = try await record(of: id, in: scope)
        let pdf = try await render(record.sheet.render)
        try await audit.recordRead(actor.record("read", resourceType: "prescription", resourceID: id, patientID: record.prescription.patientID,
                                                details: ["format": "pdf"]), in: scope)
        return (pdf, record.prescription.patientID, record.prescription.issuedAt)
    }

    /// The day's report as a PDF.
    package func dailyReportPDF(_ report: DailyReport, in scope: TenantScope) async throws -> Data {
        let sheet = DailyReportSheet(
            letterhead: Letterhead(clinicName: scope.tenant.name, clinicSlug: scope.tenant.slug), day: report.day, timeZone: report.timeZone,
            appointments: [("Fulfilled", report.appointmentsFulfilled), ("Cancelled", report.appointmentsCancelled), ("No-show", report.appointmentsNoShow),
                           ("Other", max(0, report.appointmentsTotal - report.appointmentsFulfilled - report.appointmentsCancelled - report.appointmentsNoShow))],
            patientsRegistered: report.patientsRegistered, prescriptionsIssued: report.prescriptionsIssued,
            generated: Self.localTime(report.generatedAt, zone: scope.tenant.timeZone)
        )
        return try await render(sheet.render)
    }

    /// Layout and subsetting take milliseconds of CPU: off the event loop.
    package func render(_ draw: @escaping @Sendable (PDFTypeface, Date) throws -> Data) async throws -> Data {
        let typeface = self.typeface
        return try await NIOThreadPool.singleton.runIfActive { try draw(typeface, Date()) }
    }

    /// `timestamp` as the clinic's wall clock shows it: `2026-12-03 09:30`.
    package static func localTime(_ timestamp: String, zone: String) -> String {
        guard let date = Timestamp.date(timestamp) else { return timestamp }
        return Timestamp.format(date, "yyyy-MM-dd HH:mm", in: TimeZone(identifier: zone) ?? .gmt)
    }
}
