import Foundation
package import OpenAPIKit
import SQLKit
package import WardHTTP

/// An entry of the clinic's price list: a service, a consultation fee or a medication.
package struct PriceItem: Codable, Sendable, Equatable, APIResponseBody {
    package static let kinds = ["service", "consultation", "medication", "other"]
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
        ["kind": .enumeration(kinds), "created_at": .dateTime]
    }

    package var id: String
    package var code: String
    package var name: String
    package var kind: String
    /// Minor units of the clinic's currency, before tax.
    package var unitAmount: Int64
    /// Tax rate in basis points (1 800 = 18 %).
    package var taxRateBP: Int
    package var active: Int
    package var createdAt: String

    enum CodingKeys: String, CodingKey {
        case id, code, name, kind, active
        case unitAmount = "unit_amount", taxRateBP = "tax_rate_bp", createdAt = "created_at"
    }
    static let columns = ["id", "code", "name", "kind", "unit_amount", "tax_rate_bp", "active", "created_at"]
}

/// One line of an invoice, with its figures rounded once.
package struct InvoiceLine: Codable, Sendable, Equatable, APIResponseBody {
    package var position: Int
    package var description: String
    /// What the line bills for: an appointment, a prescription, a document, a price-list
    /// entry, or nothing (a free line).
    package var sourceType: String?
    package var sourceID: String?
    package var priceItemID: String?
    package var quantity: Int
    package var unitAmount: Int64
    package var discountBP: Int
    package var taxRateBP: Int
    package var discount: Int64
    package var net: Int64
    package var tax: Int64
    package var total: Int64

    enum CodingKeys: String, CodingKey {
        case position, description, quantity, discount, net, tax, total
        case sourceType = "source_type", sourceID = "source_id", priceItemID = "price_item_id", unitAmount = "unit_amount",
             discountBP = "discount_bp", taxRateBP = "tax_rate_bp"
    }
    static let columns = ["position", "description", "source_type", "source_id", "price_item_id", "quantity", "unit_amount", "discount_bp",
                          "tax_rate_bp", "discount", "net", "tax"]

    static func from(_ row: any SQLRow) throws -> InvoiceLine {
        let net = try row.decode(column: "net", as: Int64.self), tax = try row.decode(column: "tax", as: Int64.self)
        return InvoiceLine(
            position: try row.decode(column: "position", as: Int.self), description: try row.decode(column: "description", as: String.self),
            sourceType: try row.decode(column: "source_type", as: String?.self), sourceID: try row.decode(column: "source_id", as: String?.self),
            priceItemID: try row.decode(column: "price_item_id", as: String?.self), quantity: try row.decode(column: "quantity", as: Int.self),
            unitAmount: try row.decode(column: "unit_amount", as: Int64.self), discountBP: try row.decode(column: "discount_bp", as: Int.self),
            taxRateBP: try row.decode(column: "tax_rate_bp", as: Int.self), discount: try row.decode(column: "discount", as: Int64.self),
            net: net, tax: tax, total: net + tax
        )
    }
}

/// A payment received for an invoice, or money given back (`kind` refund).
package struct Payment: Codable, Sendable, Equatable, APIResponseBody {
    package static let methods = ["cash", "card", "insurance", "transfer"]
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
        ["kind": .enumeration(["payment", "refund"]), "method": .enumeration(methods + ["stripe"]), "received_at": .dateTime]
    }

    package var id: String
    package var invoiceID: String
    package var kind: String
    package var method: String
    package var amount: Int64
    package var currency: String
    package var reference: String?
    package var receiptNumber: String?
    package var stripeID: String?
    package var creditNoteID: String?
    package var receivedAt: String
    package var recordedBy: String?

    enum CodingKeys: String, CodingKey {
        case id, kind, method, amount, currency, reference
        case invoiceID = "invoice_id", receiptNumber = "receipt_number", stripeID = "stripe_id", creditNoteID = "credit_note_id",
             receivedAt = "received_at", recordedBy = "recorded_by"
    }
    static let columns = ["id", "invoice_id", "kind", "method", "amount", "currency", "reference", "receipt_number", "stripe_id", "credit_note_id",
                          "received_at", "recorded_by"]
}

/// A credit note: part or all of an issued invoice taken back, with money refunded when
/// more had been paid than the invoice now asks.
package struct CreditNote: Codable, Sendable, Equatable, APIResponseBody {
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["created_at": .dateTime] }

    package var id: String
    package var number: String
    package var invoiceID: String
    package var amount: Int64
    package var reason: String
    package var refundAmount: Int64
    package var refundMethod: String?
    package var createdBy: String?
    package var createdAt: String

    enum CodingKeys: String, CodingKey {
        case id, number, amount, reason
        case invoiceID = "invoice_id", refundAmount = "refund_amount", refundMethod = "refund_method", createdBy = "created_by", createdAt = "created_at"
    }
    static let columns = ["id", "number", "invoice_id", "amount", "reason", "refund_amount", "refund_method", "created_by", "created_at"]
}

/// An invoice for a patient. A draft can be changed; an issued invoice cannot (corrections go
/// through credit notes). `balance` is what is still owed: total − credited − paid, where
/// `paid` is net of refunds.
package struct Invoice: Codable, Sendable, Equatable, APIResponseBody {
    package static let statuses = ["draft", "issued", "partially_paid", "paid", "void"]
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
        ["status": .enumeration(statuses), "created_at": .dateTime, "issued_at": .dateTime, "voided_at": .dateTime, "due_date": .date]
    }

    package var id: String
    package var number: String?
    package var patientID: String
    package var patientName: String?
    package var status: String
    package var currency: String
    package var subtotal: Int64
    package var discountTotal: Int64
    package var taxTotal: Int64
    package var total: Int64
    package var paid: Int64
    package var credited: Int64
    package var balance: Int64
    package var note: String?
    package var dueDate: String?
    package var issuedAt: String?
    package var voidedAt: String?
    package var voidReason: String?
    package var disputed: Bool
    package var createdAt: String
    package var version: Int
    package var lines: [InvoiceLine]
    package var payments: [Payment]
    package var creditNotes: [CreditNote]

    enum CodingKeys: String, CodingKey {
        case id, number, status, currency, subtotal, total, paid, credited, balance, note, disputed, version, lines, payments
        case patientID = "patient_id", patientName = "patient_name", discountTotal = "discount_total", taxTotal = "tax_total",
             dueDate = "due_date", issuedAt = "issued_at", voidedAt = "voided_at", voidReason = "void_reason", createdAt = "created_at",
             creditNotes = "credit_notes"
    }
    static let columns = ["id", "number", "patient_id", "status", "currency", "subtotal", "discount_total", "tax_total", "total", "paid", "credited",
                          "note", "due_date", "issued_at", "voided_at", "void_reason", "disputed", "created_at", "version"]

    package var etag: String { "\"\(version)\"" }

    /// The status an issued invoice has for what has been paid and credited.
    static func settledStatus(total: Int64, paid: Int64, credited: Int64) -> String {
        if total - credited - paid <= 0 { return "paid" }
        return paid > 0 ? "partially_paid" : "issued"
    }

    /// The invoice's row, without its lines, payments and credit notes.
    static func head(_ row: any SQLRow) throws -> Invoice {
        let total = try row.decode(column: "total", as: Int64.self), paid = try row.decode(column: "paid", as: Int64.self)
        let credited = try row.decode(column: "credited", as: Int64.self)
        return Invoice(
            id: try row.decode(column: "id", as: String.self), number: try row.decode(column: "number", as: String?.self),
            patientID: try row.decode(column: "patient_id", as: String.self), patientName: nil, status: try row.decode(column: "status", as: String.self),
            currency: try row.decode(column: "currency", as: String.self), subtotal: try row.decode(column: "subtotal", as: Int64.self),
            discountTotal: try row.decode(column: "discount_total", as: Int64.self), taxTotal: try row.decode(column: "tax_total", as: Int64.self),
            total: total, paid: paid, credited: credited, balance: total - credited - paid, note: try row.decode(column: "note", as: String?.self),
            dueDate: try row.decode(column: "due_date", as: String?.self), issuedAt: try row.decode(column: "issued_at", as: String?.self),
            voidedAt: try row.decode(column: "voided_at", as: String?.self), voidReason: try row.decode(column: "void_reason", as: String?.self),
            disputed: try row.decode(column: "disputed", as: Int.self) != 0, createdAt: try row.decode(column: "created_at", as: String.self),
            version: try row.decode(column: "version", as: Int.self), lines: [], payments: [], creditNotes: []
        )
    }
}

/// The clinic's billing settings as anyone with `billing:read` sees them: the Stripe keys
/// are never shown once set, only whether they are.
package struct BillingSettingsView: Codable, Sendable, APIResponseBody {
    package static var schemaName: String { "BillingSettings" }
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["stripe_updated_at": .dateTime] }

    package var currency: String
    package var invoicePrefix: String
    package var paymentTermsDays: Int
    package var stripeConfigured: Bool
    package var stripeWebhookSecrets: Int
    package var stripeUpdatedAt: String?

    enum CodingKeys: String, CodingKey {
        case currency
        case invoicePrefix = "invoice_prefix", paymentTermsDays = "payment_terms_days", stripeConfigured = "stripe_configured",
             stripeWebhookSecrets = "stripe_webhook_secrets", stripeUpdatedAt = "stripe_updated_at"
    }
}
