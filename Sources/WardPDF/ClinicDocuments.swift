package import Foundation

/// The clinic a document comes from, printed at its head.
package struct Letterhead: Sendable {
    package var clinicName: String
    package var clinicSlug: String

    package init(clinicName: String, clinicSlug: String) {
        self.clinicName = clinicName
        self.clinicSlug = clinicSlug
    }
}

/// A prescription as printed for the patient and the pharmacy.
package struct PrescriptionSheet: Sendable {
    package struct Line: Sendable {
        package var medication: String
        package var dose: String
        package var route: String
        package var frequency: String
        package var duration: String
        package var quantity: String
        package var instructions: String

        package init(medication: String, dose: String, route: String, frequency: String, duration: String, quantity: String, instructions: String) {
            self.medication = medication
            self.dose = dose
            self.route = route
            self.frequency = frequency
            self.duration = duration
            self.quantity = quantity
            self.instructions = instructions
        }
    }

    package var letterhead: Letterhead
    package var prescriptionID: String
    package var issued: String
    package var status: String
    package var patientName: String
    package var patientBirthDate: String
    package var patientMRN: String
    package var prescriberName: String
    package var licenceNumber: String
    package var lines: [Line]
    /// A code the pharmacy quotes to the clinic to confirm the prescription is genuine.
    package var verificationCode: String

    package init(letterhead: Letterhead, prescriptionID: String, issued: String, status: String, patientName: String, patientBirthDate: String,
                 patientMRN: String, prescriberName: String, licenceNumber: String, lines: [Line], verificationCode: String) {
        self.letterhead = letterhead
        self.prescriptionID = prescriptionID
        self.issued = issued
        self.status = status
        self.patientName = patientName
        self.patientBirthDate = patientBirthDate
        self.patientMRN = patientMRN
        self.prescriberName = prescriberName
        self.licenceNumber = licenceNumber
        self.lines = lines
        self.verificationCode = verificationCode
    }

    package func render(_ typeface: PDFTypeface, created: Date) throws -> Data {
        let layout = PDFLayout(typeface: typeface, title: "Prescription \(prescriptionID)", created: created,
                               footer: "\(letterhead.clinicName) · prescription \(prescriptionID) · verification \(verificationCode)")
        layout.split(letterhead.clinicName, "Issued \(issued)", size: 16, bold: true, color: .accent)
        layout.paragraph("Prescription", size: 11, color: .grey)
        layout.rule(color: .accent, weight: 1.2)
        layout.space(4)
        layout.fields([
            ("Patient", patientName), ("Date of birth", patientBirthDate),
            ("Medical record number", patientMRN), ("Status", status),
            ("Prescriber", prescriberName), ("Licence number", licenceNumber),
        ])
        layout.space(10)
        layout.table([
            .init("Medication", weight: 3), .init("Dose", weight: 1.4), .init("Route", weight: 1.1), .init("Frequency", weight: 1.6),
            .init("Days", weight: 0.8, alignRight: true), .init("Qty", weight: 0.8, alignRight: true),
        ], rows: lines.map { line in
            let medication = line.instructions.isEmpty ? line.medication : "\(line.medication)\n\(line.instructions)"
            return [medication, line.dose, line.route, line.frequency, line.duration, line.quantity]
        })
        layout.space(16)
        layout.paragraph("Verification code: \(verificationCode)", size: 10, bold: true)
        layout.paragraph("A pharmacy may confirm this prescription with \(letterhead.clinicName), quoting the code above.", size: 8.5, color: .grey)
        layout.signatureLine("Signature of \(prescriberName)")
        return try layout.render()
    }
}

/// One clinic's day in numbers, for its administrators.
package struct DailyReportSheet: Sendable {
    package var letterhead: Letterhead
    package var day: String
    package var timeZone: String
    package var appointments: [(label: String, value: Int)]
    package var patientsRegistered: Int
    package var prescriptionsIssued: Int
    package var generated: String

    package init(letterhead: Letterhead, day: String, timeZone: String, appointments: [(label: String, value: Int)],
                 patientsRegistered: Int, prescriptionsIssued: Int, generated: String) {
        self.letterhead = letterhead
        self.day = day
        self.timeZone = timeZone
        self.appointments = appointments
        self.patientsRegistered = patientsRegistered
        self.prescriptionsIssued = prescriptionsIssued
        self.generated = generated
    }

    package func render(_ typeface: PDFTypeface, created: Date) throws -> Data {
        let layout = PDFLayout(typeface: typeface, title: "Daily report \(day) — \(letterhead.clinicName)", created: created,
                               footer: "\(letterhead.clinicName) · daily report \(day) · generated \(generated)")
        layout.split(letterhead.clinicName, day, size: 16, bold: true, color: .accent)
        layout.paragraph("Daily report (\(timeZone))", size: 11, color: .grey)
        layout.rule(color: .accent, weight: 1.2)
        layout.space(4)
        layout.fields([
            ("New patients", String(patientsRegistered)), ("Prescriptions issued", String(prescriptionsIssued)),
            ("Appointments", String(appointments.map(\.value).reduce(0, +))), ("Day", day),
        ])
        layout.space(10)
        layout.heading("Appointments by outcome", size: 12)
        layout.barChart(appointments)
        layout.space(6)
        layout.table([.init("Outcome", weight: 3), .init("Appointments", weight: 1, alignRight: true)],
                     rows: appointments.map { [$0.label, String($0.value)] })
        return try layout.render()
    }
}

/// An invoice: who is billed, for what, and what is owed.
package struct InvoiceSheet: Sendable {
    package struct Line: Sendable {
        package var description: String
        package var quantity: Int
        package var unitPrice: String
        package var amount: String

        package init(description: String, quantity: Int, unitPrice: String, amount: String) {
            self.description = description
            self.quantity = quantity
            self.unitPrice = unitPrice
            self.amount = amount
        }
    }

    package var letterhead: Letterhead
    package var number: String
    package var issued: String
    package var due: String
    package var billTo: String
    package var lines: [Line]
    /// Label and amount rows under the lines (subtotal, tax, total, paid, balance).
    package var totals: [(String, String)]
    package var note: String

    package init(letterhead: Letterhead, number: String, issued: String, due: String, billTo: String, lines: [Line], totals: [(String, String)], note: String) {
        self.letterhead = letterhead
        self.number = number
        self.issued = issued
        self.due = due
        self.billTo = billTo
        self.lines = lines
        self.totals = totals
        self.note = note
    }

    package func render(_ typeface: PDFTypeface, created: Date) throws -> Data {
        let layout = PDFLayout(typeface: typeface, title: "Invoice \(number)", created: created, footer: "\(letterhead.clinicName) · invoice \(number)")
        layout.split(letterhead.clinicName, "Invoice \(number)", size: 16, bold: true, color: .accent)
        layout.rule(color: .accent, weight: 1.2)
        layout.fields([("Bill to", billTo), ("Issued", issued), ("Due", due), ("Invoice", number)])
        layout.space(10)
        layout.table([.init("Description", weight: 4), .init("Qty", weight: 0.8, alignRight: true),
                      .init("Unit price", weight: 1.4, alignRight: true), .init("Amount", weight: 1.4, alignRight: true)],
                     rows: lines.map { [$0.description, String($0.quantity), $0.unitPrice, $0.amount] })
        layout.space(6)
        for (label, amount) in totals { layout.split(label, amount, size: 10, bold: label.lowercased().contains("total")) }
        if !note.isEmpty {
            layout.space(12)
            layout.paragraph(note, size: 9, color: .grey)
        }
        return try layout.render()
    }
}
