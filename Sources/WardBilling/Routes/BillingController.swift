import Foundation
import HTTPTypes
package import Hummingbird
import NIOCore
package import OpenAPIKit
import WardAudit
import WardClinical
import WardCore
package import WardHTTP

/// `/api/v1/billing/…` (settings, price list, reports), `/api/v1/invoices/…` (drafts,
/// issuing, payments, credit notes, card payments, PDF) and `/webhooks/stripe/{slug}`.
package struct BillingController: Sendable {
    let billing: BillingService
    let stripe: StripePayments
    let reports: BillingReports
    let documents: InvoiceDocuments

    static let reportFormat = QueryParameter("format", .choice(["json", "csv"]), "json (default) or csv, as Accept: text/csv may also say")

    package static let operations: [APIOperation] = [
        APIOperation("billingSettings", .get, "/api/v1/billing/settings", summary: "The clinic's currency, invoice numbering, payment terms and whether Stripe is set up",
                     tag: "billing", access: .staff, permission: "billing:read", success: (200, "application/json", BillingSettingsView.self), problems: [401, 403]),
        APIOperation("updateBillingSettings", .put, "/api/v1/billing/settings",
                     summary: "Change the billing settings; Stripe keys are stored sealed and never shown again",
                     tag: "billing", access: .staff, permission: "billing:configure", success: (200, "application/json", BillingSettingsView.self),
                     problems: [400, 401, 403, 409, 422], request: SettingsChange.self),
        APIOperation("listPrices", .get, "/api/v1/billing/prices", summary: "The price list", tag: "billing", access: .staff, permission: "billing:read",
                     success: (200, "application/json", ItemList<PriceItem>.self), problems: [400, 401, 403])
            .query(QueryParameter("include_inactive", .boolean, "Include withdrawn entries")),
        APIOperation("addPrice", .post, "/api/v1/billing/prices", summary: "Add an entry to the price list (409 when its code is taken)", tag: "billing",
                     access: .staff, permission: "billing:write", success: (201, "application/json", PriceItem.self), problems: [400, 401, 403, 409, 422],
                     request: NewPrice.self),
        APIOperation("createInvoice", .post, "/api/v1/invoices", summary: "A draft invoice for a patient", tag: "billing", access: .staff,
                     permission: "billing:write", success: (201, "application/json", Invoice.self), problems: [400, 401, 403, 422], request: DraftRequest.self)
            .versioned(),
        APIOperation("listInvoices", .get, "/api/v1/invoices", summary: "Invoices, newest first, by patient and status", tag: "billing", access: .staff,
                     permission: "billing:read", success: (200, "application/json", ItemList<Invoice>.self), problems: [400, 401, 403])
            .query(QueryParameter("patient_id", .uuid, "Only this patient's"), QueryParameter("status", .choice(Invoice.statuses), "Only in this status"),
                   .limit(default: 50, maximum: 200)),
        APIOperation("getInvoice", .get, "/api/v1/invoices/{id}", summary: "An invoice with its lines, payments and credit notes", tag: "billing",
                     access: .staff, permission: "billing:read", success: (200, "application/json", Invoice.self), problems: [400, 401, 403, 404]).versioned(),
        APIOperation("updateInvoice", .put, "/api/v1/invoices/{id}", summary: "Replace a draft's lines and note (If-Match required)", tag: "billing",
                     access: .staff, permission: "billing:write", success: (200, "application/json", Invoice.self),
                     problems: [400, 401, 403, 404, 409, 412, 422, 428], request: DraftUpdate.self).versioned(ifMatch: true),
        APIOperation("issueInvoice", .post, "/api/v1/invoices/{id}/issue",
                     summary: "Issue a draft: it is numbered (no gaps), due after the payment terms, immutable, and mailed to the patient", tag: "billing",
                     access: .staff, permission: "billing:write", success: (200, "application/json", Invoice.self), problems: [400, 401, 403, 404, 409, 412])
            .versioned(ifMatch: false),
        APIOperation("voidInvoice", .post, "/api/v1/invoices/{id}/void", summary: "Void an invoice nothing was paid or credited on", tag: "billing",
                     access: .staff, permission: "billing:write", success: (200, "application/json", Invoice.self), problems: [400, 401, 403, 404, 409, 422],
                     request: VoidRequest.self),
        APIOperation("recordPayment", .post, "/api/v1/invoices/{id}/payments", summary: "Record a payment (cash, card at the desk, insurance, transfer) with its receipt",
                     tag: "billing", access: .staff, permission: "billing:write", success: (201, "application/json", Payment.self),
                     problems: [400, 401, 403, 404, 409, 422], request: PaymentRequest.self),
        APIOperation("createCreditNote", .post, "/api/v1/invoices/{id}/credit-notes",
                     summary: "Credit part or all of an issued invoice; money paid beyond the new total is refunded (to the card through Stripe with refund_method stripe)",
                     tag: "billing", access: .staff, permission: "billing:write", success: (201, "application/json", CreditNote.self),
                     problems: [400, 401, 403, 404, 409, 422, 502, 503], request: CreditRequest.self),
        APIOperation("stripePayment", .post, "/api/v1/invoices/{id}/stripe-payment",
                     summary: "A Stripe PaymentIntent for the balance; its client secret lets Stripe.js or a terminal take the card (never Ward)",
                     tag: "billing", access: .staff, permission: "billing:write", success: (200, "application/json", StripePaymentView.self),
                     problems: [400, 401, 403, 404, 409, 502, 503]),
        APIOperation("invoicePDF", .get, "/api/v1/invoices/{id}/pdf", summary: "The invoice as a PDF document", tag: "billing", access: .staff,
                     permission: "billing:read", success: (200, "application/pdf", nil), problems: [400, 401, 403, 404]),
        APIOperation("outstandingReport", .get, "/api/v1/billing/reports/outstanding", summary: "Invoices with money owed, oldest due first (JSON or CSV)",
                     tag: "billing", access: .staff, permission: "billing:read", success: (200, "application/json", OutstandingReport.self), problems: [400, 401, 403, 422])
            .query(QueryParameter("as_of", .date, "The day to age by; today when absent"), reportFormat).alsoAnswering("text/csv"),
        APIOperation("ageingReport", .get, "/api/v1/billing/reports/ageing", summary: "Balances owed by days past due: current, 1–30, 31–60, 61–90, over 90 (JSON or CSV)",
                     tag: "billing", access: .staff, permission: "billing:read", success: (200, "application/json", AgeingReport.self), problems: [400, 401, 403, 422])
            .query(QueryParameter("as_of", .date, "The day to age by; today when absent"), reportFormat).alsoAnswering("text/csv"),
        APIOperation("takingsReport", .get, "/api/v1/billing/reports/takings", summary: "Money received less refunds, per local day and method (JSON or CSV)",
                     tag: "billing", access: .staff, permission: "billing:read", success: (200, "application/json", TakingsReport.self), problems: [400, 401, 403, 422])
            .query(QueryParameter("from", .date, "First day; the last day when absent"), QueryParameter("to", .date, "Last day; today when absent"), reportFormat)
            .alsoAnswering("text/csv"),
        APIOperation("stripeWebhook", .post, "/webhooks/stripe/{slug}",
                     summary: "Stripe's events for a clinic: verified by Stripe-Signature, applied once per event id", tag: "billing",
                     success: (200, "application/json", WebhookReceipt.self), problems: [400, 404]).uploading(["application/json"]),
    ]

    struct SettingsChange: APIRequestBody {
        let currency: String?
        let invoicePrefix: String?
        let paymentTermsDays: Int?
        let stripeSecretKey: String?
        let stripeWebhookSecrets: [String]?
        enum CodingKeys: String, CodingKey {
            case currency
            case invoicePrefix = "invoice_prefix", paymentTermsDays = "payment_terms_days", stripeSecretKey = "stripe_secret_key",
                 stripeWebhookSecrets = "stripe_webhook_secrets"
        }
        static var schemaName: String { "BillingSettingsChange" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["currency": .string(pattern: "^[A-Z]{3}$"), "invoice_prefix": .string(pattern: BillingSettingsStore.prefixPattern),
             "payment_terms_days": .integer(maximum: (365, exclusive: false), minimum: (0, exclusive: false)),
             "stripe_secret_key": .string(pattern: #"^(sk|rk)_(test|live)_[A-Za-z0-9]{4,200}$"#),
             "stripe_webhook_secrets": .array(maxItems: 3, items: .string(pattern: #"^whsec_[A-Za-z0-9+/=]{8,200}$"#))]
        }
    }

    struct NewPrice: APIRequestBody {
        let code: String
        let name: String
        let kind: String
        let unitAmount: Int64
        let taxRateBP: Int?
        enum CodingKeys: String, CodingKey { case code, name, kind, unitAmount = "unit_amount", taxRateBP = "tax_rate_bp" }
        static var schemaName: String { "NewPriceItem" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["code": .string(pattern: BillingService.codePattern), "name": BillingService.name.schema, "kind": .enumeration(PriceItem.kinds),
             "unit_amount": amountSchema, "tax_rate_bp": rateSchema]
        }
    }

    static let amountSchema = JSONSchema.integer(maximum: (Int(Money.maximumUnitAmount), exclusive: false), minimum: (0, exclusive: false))
    static let rateSchema = JSONSchema.integer(maximum: (10_000, exclusive: false), minimum: (0, exclusive: false))

    struct LineBody: APIRequestBody {
        let priceItemID: String?
        let description: String?
        let unitAmount: Int64?
        let taxRateBP: Int?
        let quantity: Int?
        let discountBP: Int?
        let sourceType: String?
        let sourceID: String?
        enum CodingKeys: String, CodingKey {
            case description, quantity
            case priceItemID = "price_item_id", unitAmount = "unit_amount", taxRateBP = "tax_rate_bp", discountBP = "discount_bp",
                 sourceType = "source_type", sourceID = "source_id"
        }
        static var schemaName: String { "InvoiceLineRequest" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["price_item_id": .id, "description": BillingService.description.schema, "unit_amount": amountSchema, "tax_rate_bp": rateSchema,
             "quantity": .integer(maximum: (Money.maximumQuantity, exclusive: false), minimum: (1, exclusive: false)), "discount_bp": rateSchema,
             "source_type": .enumeration(BillingService.sourceTypes), "source_id": .id]
        }
        var line: LineRequest {
            LineRequest(priceItemID: priceItemID, description: description, unitAmount: unitAmount, taxRateBP: taxRateBP, quantity: quantity ?? 1,
                        discountBP: discountBP ?? 0, sourceType: sourceType, sourceID: sourceID)
        }
    }

    /// Each line names a price-list entry or gives a description and unit amount (422 otherwise).
    struct DraftRequest: APIRequestBody {
        let patientID: String
        let lines: [LineBody]
        let note: String?
        enum CodingKeys: String, CodingKey { case lines, note, patientID = "patient_id" }
        static var schemaName: String { "NewInvoice" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["patient_id": .id, "lines": .array(minItems: 1, maxItems: 100, items: .component(LineBody.self)), "note": BillingService.note.schema]
        }
    }

    struct DraftUpdate: APIRequestBody {
        let lines: [LineBody]
        let note: String?
        static var schemaName: String { "InvoiceDraftUpdate" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["lines": .array(minItems: 1, maxItems: 100, items: .component(LineBody.self)), "note": BillingService.note.schema]
        }
    }

    struct VoidRequest: APIRequestBody {
        let reason: String
        static var schemaName: String { "InvoiceVoid" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["reason": BillingService.reason.schema] }
    }

    struct PaymentRequest: APIRequestBody {
        let method: String
        let amount: Int64
        let reference: String?
        static var schemaName: String { "NewPayment" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["method": .enumeration(Payment.methods), "amount": .integer(maximum: (Int(Money.maximumUnitAmount) * 100, exclusive: false), minimum: (1, exclusive: false)),
             "reference": BillingService.reference.schema]
        }
    }

    struct CreditRequest: APIRequestBody {
        let amount: Int64
        let reason: String
        let refundMethod: String?
        enum CodingKeys: String, CodingKey { case amount, reason, refundMethod = "refund_method" }
        static var schemaName: String { "NewCreditNote" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["amount": .integer(maximum: (Int(Money.maximumUnitAmount) * 100, exclusive: false), minimum: (1, exclusive: false)),
             "reason": BillingService.reason.schema, "refund_method": .enumeration(["stripe"] + Payment.methods)]
        }
    }

    package func routes(_ routes: inout ModuleRoutes) {
        let billing = self.billing, stripe = self.stripe, reports = self.reports, documents = self.documents
        routes.on("billingSettings") { _, context -> Response in
            try JSONResponse.make(try await billing.settings.view(in: try context.requireTenant()))
        }
        routes.on("updateBillingSettings") { request, context -> Response in
            let body = try await request.decode(as: SettingsChange.self, context: context)
            let change = BillingSettingsStore.Change(currency: body.currency, invoicePrefix: body.invoicePrefix, paymentTermsDays: body.paymentTermsDays,
                                                     stripeSecretKey: body.stripeSecretKey, webhookSecrets: body.stripeWebhookSecrets)
            return try JSONResponse.make(try await billing.settings.update(change, in: try context.requireTenant(), by: AuditActor(request, context)))
        }
        routes.on("listPrices") { request, context -> Response in
            let inactive = request.uri.queryParameters.get("include_inactive") == "true"
            return try JSONResponse.make(ItemList(try await billing.priceList(includeInactive: inactive, in: try context.requireTenant())))
        }
        routes.on("addPrice") { request, context -> Response in
            let body = try await request.decode(as: NewPrice.self, context: context)
            let item = try await billing.addPriceItem(code: body.code, name: body.name, kind: body.kind, unitAmount: body.unitAmount, taxRateBP: body.taxRateBP ?? 0,
                                                      in: try context.requireTenant(), by: AuditActor(request, context))
            return try JSONResponse.make(item, status: .created)
        }
        routes.on("createInvoice") { request, context -> Response in
            let body = try await request.decode(as: DraftRequest.self, context: context)
            let invoice = try await billing.createDraft(patientID: body.patientID, lines: body.lines.map(\.line), note: body.note,
                                                        in: try context.requireTenant(), by: AuditActor(request, context))
            var response = try JSONResponse.make(invoice, status: .created, etag: invoice.etag)
            response.headers[.location] = "/api/v1/invoices/\(invoice.id)"
            return response
        }
        routes.on("listInvoices") { request, context -> Response in
            let limit = try request.pageLimit(default: 50, maximum: 200)
            let found = try await billing.list(patientID: request.uri.queryParameters.get("patient_id"), status: request.uri.queryParameters.get("status"),
                                               limit: limit, in: try context.requireTenant(), by: AuditActor(request, context))
            return try JSONResponse.make(ItemList(found))
        }
        routes.on("getInvoice") { request, context -> Response in
            let invoice = try await billing.read(try context.parameters.require("id"), in: try context.requireTenant(), by: AuditActor(request, context))
            return try JSONResponse.make(invoice, etag: invoice.etag)
        }
        routes.on("updateInvoice") { request, context -> Response in
            let version = try IfMatch.requiredVersion(of: request)
            let body = try await request.decode(as: DraftUpdate.self, context: context)
            let invoice = try await billing.updateDraft(try context.parameters.require("id"), lines: body.lines.map(\.line), note: body.note, expectedVersion: version,
                                                        in: try context.requireTenant(), by: AuditActor(request, context))
            return try JSONResponse.make(invoice, etag: invoice.etag)
        }
        routes.on("issueInvoice") { request, context -> Response in
            let invoice = try await billing.issue(try context.parameters.require("id"), expectedVersion: try IfMatch.version(of: request),
                                                  in: try context.requireTenant(), by: AuditActor(request, context))
            return try JSONResponse.make(invoice, etag: invoice.etag)
        }
        routes.on("voidInvoice") { request, context -> Response in
            let body = try await request.decode(as: VoidRequest.self, context: context)
            let invoice = try await billing.void(try context.parameters.require("id"), reason: body.reason, in: try context.requireTenant(),
                                                 by: AuditActor(request, context))
            return try JSONResponse.make(invoice, etag: invoice.etag)
        }
        routes.on("recordPayment") { request, context -> Response in
            let body = try await request.decode(as: PaymentRequest.self, context: context)
            let payment = try await billing.recordPayment(try context.parameters.require("id"), method: body.method, amount: body.amount, reference: body.reference,
                                                          in: try context.requireTenant(), by: AuditActor(request, context))
            return try JSONResponse.make(payment, status: .created)
        }
        routes.on("createCreditNote") { request, context -> Response in
            let body = try await request.decode(as: CreditRequest.self, context: context)
            let id = try context.parameters.require("id"), scope = try context.requireTenant(), actor = AuditActor(request, context)
            let note = body.refundMethod == "stripe"
                ? try await stripe.creditNoteRefundingCard(id, amount: body.amount, reason: body.reason, in: scope, by: actor)
                : try await billing.creditNote(id, amount: body.amount, reason: body.reason, refundMethod: body.refundMethod, in: scope, by: actor)
            return try JSONResponse.make(note, status: .created)
        }
        routes.on("stripePayment") { request, context -> Response in
            try JSONResponse.make(try await stripe.paymentIntent(for: try context.parameters.require("id"), in: try context.requireTenant(),
                                                                 by: AuditActor(request, context)))
        }
        routes.on("invoicePDF") { request, context -> Response in
            let scope = try context.requireTenant()
            let invoice = try await billing.read(try context.parameters.require("id"), in: scope, by: AuditActor(request, context))
            return PDFResponse.make(try await documents.pdf(invoice, in: scope), filename: "invoice-\(invoice.number ?? "draft-\(invoice.id.prefix(8))").pdf")
        }
        routes.on("outstandingReport") { request, context -> Response in
            let report = try await reports.outstanding(asOf: request.uri.queryParameters.get("as_of"), in: try context.requireTenant(), by: AuditActor(request, context))
            return Self.wantsCSV(request) ? Self.csv(BillingReports.csv(report), name: "outstanding-\(report.asOf)") : try JSONResponse.make(report)
        }
        routes.on("ageingReport") { request, context -> Response in
            let report = try await reports.ageing(asOf: request.uri.queryParameters.get("as_of"), in: try context.requireTenant(), by: AuditActor(request, context))
            return Self.wantsCSV(request) ? Self.csv(BillingReports.csv(report), name: "ageing-\(report.asOf)") : try JSONResponse.make(report)
        }
        routes.on("takingsReport") { request, context -> Response in
            let report = try await reports.takings(from: request.uri.queryParameters.get("from"), to: request.uri.queryParameters.get("to"),
                                                   in: try context.requireTenant(), by: AuditActor(request, context))
            return Self.wantsCSV(request) ? Self.csv(BillingReports.csv(report), name: "takings-\(report.from)-\(report.to)") : try JSONResponse.make(report)
        }
        routes.on("stripeWebhook") { request, context -> Response in
            guard request.headers.value(.contentType)?.lowercased().hasPrefix("application/json") == true else { throw WebhookError.notJSON }
            let body = try await request.body.collect(upTo: 512 * 1024)
            let receipt = try await stripe.receive(slug: try context.parameters.require("slug"), signature: request.headers[HTTPField.Name("Stripe-Signature")!],
                                                   payload: Array(buffer: body))
            return try JSONResponse.make(receipt)
        }
    }

    static func wantsCSV(_ request: Request) -> Bool {
        let format = request.uri.queryParameters.get("format")
        return format == "csv" || (format == nil && request.headers[.accept]?.contains("text/csv") == true)
    }

    /// A CSV download: named for saving, never cached (the outstanding list names patients).
    static func csv(_ text: String, name: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(name).csv\"", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
