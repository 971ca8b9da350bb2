package import Foundation
import SQLKit
import WardAudit
import WardClinical
import WardCore
import WardJobs
import WardMail
import WardPDF
package import WardStorage

/// An invoice as a PDF document, on the notifications module's writer.
package struct InvoiceDocuments: Sendable {
    let clinical: ClinicalDocuments

    package func pdf(_ invoice: Invoice, in scope: TenantScope) async throws -> Data {
        let currency = Currency(invoice.currency) ?? Currency("USD")!
        let zone = scope.tenant.timeZone
        var totals: [(String, String)] = [("Subtotal", currency.format(invoice.subtotal))]
        if invoice.discountTotal > 0 { totals.append(("Discounts", currency.format(-invoice.discountTotal))) }
        totals.append(("Tax", currency.format(invoice.taxTotal)))
        totals.append(("Total", currency.format(invoice.total)))
        if invoice.credited > 0 { totals.append(("Credited", currency.format(-invoice.credited))) }
        if invoice.paid != 0 { totals.append(("Paid", currency.format(-invoice.paid))) }
        totals.append(("Balance due", currency.format(invoice.balance)))
        let note = [invoice.status == "void" ? "VOID: \(invoice.voidReason ?? "")" : nil, invoice.note,
                    invoice.creditNotes.isEmpty ? nil : "Credit notes: " + invoice.creditNotes.map { "\($0.number) (\(currency.format($0.amount)))" }.joined(separator: ", ")]
            .compactMap { $0 }.joined(separator: "\n")
        let sheet = InvoiceSheet(
            letterhead: Letterhead(clinicName: scope.tenant.name, clinicSlug: scope.tenant.slug), number: invoice.number ?? "DRAFT",
            issued: invoice.issuedAt.map { ClinicalDocuments.localTime($0, zone: zone) } ?? "not issued", due: invoice.dueDate ?? "",
            billTo: invoice.patientName ?? invoice.patientID,
            lines: invoice.lines.map { line in
                let discount = line.discountBP > 0 ? " (−\(Money.percent(line.discountBP)))" : ""
                let tax = line.taxRateBP > 0 ? ", tax \(Money.percent(line.taxRateBP))" : ""
                return InvoiceSheet.Line(description: line.description + discount + tax, quantity: line.quantity, unitPrice: currency.plain(line.unitAmount),
                                         amount: currency.plain(line.total))
            },
            totals: totals, note: note
        )
        return try await clinical.render(sheet.render)
    }
}

/// The billing module's email: an issued invoice's PDF to the patient, queued as a job so
/// issuing never waits for a PDF or a mail server. The body names no treatment.
struct BillingMail: Sendable {
    static let kind = "invoice.email"

    static let invoice = MailTemplate(
        name: "invoice", summary: "To the patient when an invoice is issued: the invoice as a PDF",
        subject: "Your invoice {{number}} from {{clinic}}",
        text: """
            Hello {{patient}},

            Your invoice {{number}} from {{clinic}} is attached as a PDF: {{amount}} is due by {{due}}.
            For questions about it, contact the clinic.

            {{clinic}}
            """,
        html: """
            <p>Hello {{patient}},</p>
            <p>Your invoice <strong>{{number}}</strong> from {{clinic}} is attached as a PDF: <strong>{{amount}}</strong> is due by {{due}}.
            For questions about it, contact the clinic.</p>
            <p>{{clinic}}</p>
            """,
        sample: ["patient": "Ananya Sharma", "number": "INV-2026-000042", "clinic": "North Clinic", "amount": "1250.00 INR", "due": "2027-01-02"]
    )

    let outbox: Outbox
    let queue: JobQueue
    let tenants: TenantDirectory
    let audit: AuditTrail
    let documents: InvoiceDocuments
    let protection: PatientProtection
    let jobAttempts: Int

    struct Order: Codable { let invoice: String }

    func invoiceIssued(_ id: String, patientID: String, in scope: TenantScope) async throws {
        try await queue.enqueue(try JobQueue.Request(kind: Self.kind, payload: Order(invoice: id), tenant: scope.tenant.slug, maxAttempts: jobAttempts,
                                                     uniqueKey: "invoice-email:\(scope.tenant.slug):\(id)"))
    }

    func handler(policy: RetryPolicy) -> JobHandler {
        JobHandler(kind: Self.kind, policy: policy) { run in
            guard let slug = run.job.tenant, let tenant = try await tenants.fetch(slug: slug), tenant.status == .active else { return }
            let scope = try await tenants.scope(for: tenant)
            try await send(try run.job.decodePayload(as: Order.self).invoice, in: scope)
        }
    }

    private func send(_ id: String, in scope: TenantScope) async throws {
        let invoice = try await scope.read { database in try await BillingService.full(id, in: database, scope: scope) }
        let patients = try scope.table("patients")
        let sealed = try await scope.read { database in
            try await database.select().column("email").from(patients).where("id", .equal, invoice.patientID).first()?.decode(column: "email", as: String?.self)
        }
        let email = try await protection.open(sealed, column: "email", patientID: invoice.patientID, in: scope)
        guard let email, MailAddress.isValid(email), invoice.status != "void", let number = invoice.number else { return }
        let pdf = try await documents.pdf(invoice, in: scope)
        let currency = Currency(invoice.currency) ?? Currency("USD")!
        let queued = try await outbox.send(Letter(
            template: Self.invoice.name, tenant: scope.tenant.slug, recipient: MailAddress(email, name: invoice.patientName),
            values: ["patient": invoice.patientName ?? "", "number": number, "clinic": scope.tenant.name, "amount": currency.format(invoice.balance),
                     "due": invoice.dueDate ?? ""],
            attachments: [MailAttachment(filename: "invoice-\(number).pdf", mediaType: "application/pdf", data: pdf)],
            dedupeKey: "invoice:\(scope.tenant.slug):\(id)"
        ), scope: scope)
        if queued != nil {
            try await audit.record(AuditActor.system.record("disclose", resourceType: "invoice", resourceID: id, patientID: invoice.patientID,
                                                            details: ["channel": "email", "format": "pdf"]), in: scope)
        }
    }
}
