import Foundation
import WardAudit
import WardCore
import WardIdentity
import WardJobs
import WardMail
import WardStorage

/// The clinical module's emails: a prescription's PDF to the patient, the daily report's PDF to
/// the clinic's administrators, an appointment's confirmation (with an iCalendar file) and its
/// reminder a day before. Each is queued by a job, so issuing a prescription or booking an
/// appointment never waits for a PDF or a mail server. Bodies name no medication or diagnosis:
/// clinical detail travels only in the attachment.
package struct ClinicalMail: Sendable {
    package static let prescriptionKind = "prescription.email"
    package static let appointmentKind = "appointment.email"

    static let prescription = MailTemplate(
        name: "prescription", summary: "To the patient: the prescription as a PDF",
        subject: "Your prescription from {{clinic}}",
        text: """
            Hello {{patient}},

            {{prescriber}} issued a prescription for you on {{issued}}. It is attached as a PDF:
            show it at your pharmacy. The pharmacy can confirm it with the clinic by its
            verification code, {{code}}.

            {{clinic}}
            """,
        html: """
            <p>Hello {{patient}},</p>
            <p>{{prescriber}} issued a prescription for you on {{issued}}. It is attached as a PDF:
            show it at your pharmacy. The pharmacy can confirm it with the clinic by its verification code,
            <strong>{{code}}</strong>.</p>
            <p>{{clinic}}</p>
            """,
        sample: ["patient": "Ananya Sharma", "prescriber": "Dr Asha Rao", "issued": "2026-12-03 09:30", "code": "K7QF-29XD-MT", "clinic": "North Clinic"]
    )

    static let dailyReport = MailTemplate(
        name: "daily_report", summary: "To the clinic's administrators after local midnight: the day's report as a PDF",
        subject: "{{clinic}}: daily report for {{day}}",
        text: """
            Hello {{name}},

            The report of {{day}} for {{clinic}} is attached: {{appointments}} appointments,
            {{patients}} new patients, {{prescriptions}} prescriptions.
            """,
        html: """
            <p>Hello {{name}},</p>
            <p>The report of {{day}} for {{clinic}} is attached: {{appointments}} appointments,
            {{patients}} new patients, {{prescriptions}} prescriptions.</p>
            """,
        sample: ["name": "Dr Asha Rao", "clinic": "North Clinic", "day": "2026-12-02", "appointments": "20", "patients": "5", "prescriptions": "9"]
    )

    static let appointmentConfirmation = MailTemplate(
        name: "appointment_confirmation", summary: "To the patient when an appointment is booked, with a calendar file",
        subject: "Your appointment at {{clinic}} on {{when}}",
        text: """
            Hello {{patient}},

            Your appointment with {{practitioner}} at {{clinic}} is booked for {{when}}.
            The attached calendar file adds it to your calendar.

            To change or cancel it, contact the clinic.
            """,
        html: """
            <p>Hello {{patient}},</p>
            <p>Your appointment with {{practitioner}} at {{clinic}} is booked for <strong>{{when}}</strong>.
            The attached calendar file adds it to your calendar.</p>
            <p>To change or cancel it, contact the clinic.</p>
            """,
        sample: ["patient": "Ananya Sharma", "practitioner": "Dr Asha Rao", "clinic": "North Clinic", "when": "2026-12-04 10:30 (Asia/Kolkata)"]
    )

    static let appointmentReminder = MailTemplate(
        name: "appointment_reminder", summary: "To the patient 24 hours before an appointment",
        subject: "Reminder: your appointment at {{clinic}} on {{when}}",
        text: """
            Hello {{patient}},

            A reminder of your appointment with {{practitioner}} at {{clinic}} on {{when}}.

            To change or cancel it, contact the clinic.
            """,
        html: """
            <p>Hello {{patient}},</p>
            <p>A reminder of your appointment with {{practitioner}} at {{clinic}} on <strong>{{when}}</strong>.</p>
            <p>To change or cancel it, contact the clinic.</p>
            """,
        sample: ["patient": "Ananya Sharma", "practitioner": "Dr Asha Rao", "clinic": "North Clinic", "when": "2026-12-04 10:30 (Asia/Kolkata)"]
    )

    static let templates = [prescription, dailyReport, appointmentConfirmation, appointmentReminder]

    let outbox: Outbox
    let documents: ClinicalDocuments
    let identity: IdentityService
    let queue: JobQueue
    let tenants: TenantDirectory
    let audit: AuditTrail
    let protection: PatientProtection
    let jobAttempts: Int

    // MARK: Queued by the clinical services

    struct PrescriptionOrder: Codable { let prescription: String }
    struct AppointmentOrder: Codable {
        let appointment: String
        let reminder: Bool
    }

    /// After a prescription is issued: its email to the patient, as a job.
    func prescriptionIssued(_ id: String, in scope: TenantScope) async throws {
        try await queue.enqueue(try JobQueue.Request(kind: Self.prescriptionKind, payload: PrescriptionOrder(prescription: id), tenant: scope.tenant.slug,
                                                     maxAttempts: jobAttempts, uniqueKey: "prescription-email:\(scope.tenant.slug):\(id)"))
    }

    /// After an appointment is booked: its confirmation now and, for one more than a day
    /// away, its reminder 24 hours before it starts.
    func appointmentBooked(_ appointment: Appointment, in scope: TenantScope, now: Date) async throws {
        let slug = scope.tenant.slug
        try await queue.enqueue(try JobQueue.Request(kind: Self.appointmentKind, payload: AppointmentOrder(appointment: appointment.id, reminder: false),
                                                     tenant: slug, maxAttempts: jobAttempts, uniqueKey: "appointment-email:\(slug):\(appointment.id):confirmation"))
        if let start = Timestamp.date(appointment.start), start.timeIntervalSince(now) > 25 * 3600 {
            try await queue.enqueue(try JobQueue.Request(kind: Self.appointmentKind, payload: AppointmentOrder(appointment: appointment.id, reminder: true),
                                                         tenant: slug, runAt: start.addingTimeInterval(-24 * 3600), maxAttempts: jobAttempts,
                                                         uniqueKey: "appointment-email:\(slug):\(appointment.id):reminder"))
        }
    }

    // MARK: The jobs

    func handlers(policy: RetryPolicy) -> [JobHandler] {
        [
            JobHandler(kind: Self.prescriptionKind, policy: policy) { run in
                guard let scope = try await scope(of: run.job) else { return }
                try await sendPrescription(try run.job.decodePayload(as: PrescriptionOrder.self).prescription, in: scope)
            },
            JobHandler(kind: Self.appointmentKind, policy: policy) { run in
                guard let scope = try await scope(of: run.job) else { return }
                try await sendAppointment(try run.job.decodePayload(as: AppointmentOrder.self), in: scope)
            },
        ]
    }

    private func scope(of job: Job) async throws -> TenantScope? {
        guard let slug = job.tenant, let tenant = try await tenants.fetch(slug: slug), tenant.status == .active else { return nil }
        return try await tenants.scope(for: tenant)
    }

    /// The prescription's PDF to the patient's address, if the record has one. Delivery is
    /// retried three times, 60 s apart. Recorded in the trail as a disclosure of the record.
    private func sendPrescription(_ id: String, in scope: TenantScope) async throws {
        let record = try await documents.record(of: id, in: scope)
        guard let email = record.patientEmail, MailAddress.isValid(email), record.prescription.status != "cancelled" else { return }
        let pdf = try await documents.render(record.sheet.render)
        let queued = try await outbox.send(Letter(
            template: Self.prescription.name, tenant: scope.tenant.slug, recipient: MailAddress(email, name: record.patientName),
            values: ["patient": record.patientName, "prescriber": record.prescription.prescriberName ?? "Your doctor", "issued": record.sheet.issued,
                     "code": record.sheet.verificationCode, "clinic": scope.tenant.name],
            attachments: [MailAttachment(filename: "prescription-\(id.prefix(8)).pdf", mediaType: "application/pdf", data: pdf)],
            dedupeKey: "prescription:\(scope.tenant.slug):\(id)", retries: (attempts: 4, every: .seconds(60))
        ), scope: scope)
        if queued != nil {
            try await audit.record(AuditActor.system.record("disclose", resourceType: "prescription", resourceID: id, patientID: record.prescription.patientID,
                                                            details: ["channel": "email", "format": "pdf"]), in: scope)
        }
    }

    private func sendAppointment(_ order: AppointmentOrder, in scope: TenantScope) async throws {
        let appointments = try scope.table("appointments"), patients = try scope.table("patients"), practitioners = try scope.table("practitioners")
        let found = try await scope.read { database -> (Appointment, String, String?, String)? in
            guard let row = try await database.select().columns(Appointment.columns).from(appointments).where("id", .equal, order.appointment).first() else { return nil }
            let appointment = try row.decode(model: Appointment.self)
            let patient = try await database.select().columns("given_name", "family_name", "email", "email_reminders").from(patients)
                .where("id", .equal, appointment.patientID).first()
            // A patient who declined reminders still gets the confirmation of a booking.
            if order.reminder, try patient?.decode(column: "email_reminders", as: Bool.self) == false { return nil }
            let practitioner = try await database.select().column("name").from(practitioners).where("id", .equal, appointment.practitionerID).first()
            let name = "\(try patient?.decode(column: "given_name", as: String.self) ?? "") \(try patient?.decode(column: "family_name", as: String.self) ?? "")"
            return (appointment, name.trimmingCharacters(in: .whitespaces), try patient?.decode(column: "email", as: String?.self),
                    try practitioner?.decode(column: "name", as: String.self) ?? "your practitioner")
        }
        guard let (appointment, patient, sealed, practitioner) = found,
              let email = try await protection.open(sealed, column: "email", patientID: appointment.patientID, in: scope),
              appointment.status == "booked", MailAddress.isValid(email),
              let start = Timestamp.date(appointment.start), let end = Timestamp.date(appointment.end) else { return }
        let when = ClinicalDocuments.localTime(appointment.start, zone: scope.tenant.timeZone) + " (\(scope.tenant.timeZone))"
        let template = order.reminder ? Self.appointmentReminder : Self.appointmentConfirmation
        let invite = AppointmentInvite(uid: "\(appointment.id)@\(scope.tenant.slug).ward", start: start, end: end,
                                       summary: "Appointment at \(scope.tenant.name)", description: "With \(practitioner)", location: scope.tenant.name)
        try await outbox.send(Letter(
            template: template.name, tenant: scope.tenant.slug, recipient: MailAddress(email, name: patient),
            values: ["patient": patient, "practitioner": practitioner, "clinic": scope.tenant.name, "when": when],
            attachments: order.reminder ? [] : [MailAttachment(filename: "appointment.ics", mediaType: "text/calendar; charset=utf-8; method=PUBLISH",
                                                              data: Data(invite.calendar(stamp: Date()).utf8))],
            dedupeKey: "\(template.name):\(scope.tenant.slug):\(appointment.id):\(appointment.start)"
        ), scope: scope)
    }

    // MARK: The daily report

    /// The day's report as a PDF to every active administrator of the clinic.
    func sendDailyReport(_ report: DailyReport, in scope: TenantScope) async throws {
        let administrators = try await identity.users(in: scope).filter { $0.status == "active" && $0.roles.contains("tenant_admin") }
        guard !administrators.isEmpty else { return }
        let pdf = try await documents.dailyReportPDF(report, in: scope)
        for administrator in administrators where MailAddress.isValid(administrator.email) {
            try await outbox.send(Letter(
                template: Self.dailyReport.name, tenant: scope.tenant.slug, recipient: MailAddress(administrator.email, name: administrator.name),
                values: ["name": administrator.name, "clinic": scope.tenant.name, "day": report.day, "appointments": String(report.appointmentsTotal),
                         "patients": String(report.patientsRegistered), "prescriptions": String(report.prescriptionsIssued)],
                attachments: [MailAttachment(filename: "daily-report-\(report.day).pdf", mediaType: "application/pdf", data: pdf)],
                dedupeKey: "daily_report:\(scope.tenant.slug):\(report.day):\(administrator.id)"
            ), scope: scope)
        }
    }
}

/// An appointment as an iCalendar event (RFC 5545), for the patient's calendar.
struct AppointmentInvite {
    let uid: String
    let start: Date
    let end: Date
    let summary: String
    let description: String
    let location: String

    func calendar(stamp: Date) -> String {
        let lines = [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Ward//Appointments//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
            "BEGIN:VEVENT", "UID:\(uid)", "DTSTAMP:\(Self.utc(stamp))", "DTSTART:\(Self.utc(start))", "DTEND:\(Self.utc(end))",
            "SUMMARY:\(Self.escaped(summary))", "DESCRIPTION:\(Self.escaped(description))", "LOCATION:\(Self.escaped(location))",
            "STATUS:CONFIRMED", "END:VEVENT", "END:VCALENDAR",
        ]
        return lines.map(Self.folded).joined(separator: "\r\n") + "\r\n"
    }

    static func utc(_ date: Date) -> String {
        Timestamp.format(date, "yyyyMMdd'T'HHmmss'Z'")
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ";", with: "\\;").replacingOccurrences(of: ",", with: "\\,")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Lines longer than 75 octets continue on lines starting with a space, never splitting a character.
    static func folded(_ line: String) -> String {
        var out = "", current = ""
        for character in line {
            if current.utf8.count + String(character).utf8.count > (out.isEmpty ? 75 : 74) {
                out += (out.isEmpty ? "" : "\r\n ") + current
                current = ""
            }
            current.append(character)
        }
        return out + (out.isEmpty ? "" : "\r\n ") + current
    }
}
