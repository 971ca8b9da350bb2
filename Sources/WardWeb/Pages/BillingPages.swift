import Foundation
import HTTPTypes
import Hummingbird
import WardAudit
import WardBilling
import WardClinical
import WardCore
import WardHTTP

/// The billing desk: what is owed (oldest due first), an invoice with its lines, payments and
/// credit notes, taking a payment at the desk, and the invoice's PDF. Shown to `billing:read`;
/// taking a payment needs `billing:write`.
struct BillingPages: Sendable {
    let app: WebApp

    struct Row { let id: String; let number: String; let patientID: String; let patientName: String; let due: String; let balance: String; let overdue: String }
    struct ListModel {
        let shell: Shell
        let total: String
        let rows: [Row]
        let empty: Bool
    }
    struct Line { let description: String; let quantity: Int; let unit: String; let tax: String; let total: String }
    struct Total { let label: String; let amount: String }
    struct Entry { let when: String; let label: String; let amount: String; let receipt: String }
    struct InvoiceModel {
        let shell: Shell
        let id: String
        let number: String
        let status: String
        let patientID: String
        let patientName: String
        let due: String
        let lines: [Line]
        let totals: [Total]
        let entries: [Entry]
        let canPay: Bool
        var fields: [Field]
        let paid: Bool
        var problem: String?
        var problemDetail: String?
    }

    func register(_ signedIn: RouterGroup<WardRequestContext>) {
        signedIn.get("billing") { request, context in try await list(request, context) }
        signedIn.get("billing/invoices/{id}") { request, context in try await show(request, context) }
        signedIn.get("billing/invoices/{id}/pdf") { request, context in try await pdf(request, context) }
        signedIn.post("billing/invoices/{id}/payments") { request, context in try await pay(request, context) }
    }

    func list(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("billing:read", request, context)
        let report = try await app.billingReports.outstanding(asOf: nil, in: try context.requireTenant(), by: AuditActor(request, context))
        let currency = Currency(report.currency) ?? Currency("USD")!
        let rows = report.items.map {
            Row(id: $0.id, number: $0.number, patientID: $0.patientID, patientName: $0.patientName, due: $0.dueDate, balance: currency.format($0.balance),
                overdue: $0.daysOverdue > 0 ? "\($0.daysOverdue) days overdue" : "not yet due")
        }
        let model = ListModel(shell: try app.shell(context, current: "/app/billing"), total: currency.format(report.total), rows: rows, empty: rows.isEmpty)
        return app.renderer.page("billing", model)
    }

    private func invoiceID(_ context: WardRequestContext) throws -> String {
        guard let id = context.parameters.get("id"), ParameterFormat.uuid.problem(with: id) == nil else { throw PageError.notFound }
        return id
    }

    func show(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("billing:read", request, context)
        let invoice = try await read(try invoiceID(context), request, context)
        return try page(invoice, request, context, fields: Self.paymentFields(amount: nil, method: nil))
    }

    func pdf(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("billing:read", request, context)
        let scope = try context.requireTenant()
        let invoice = try await read(try invoiceID(context), request, context)
        return PDFResponse.make(try await app.invoices.pdf(invoice, in: scope), filename: "invoice-\(invoice.number ?? "draft").pdf")
    }

    func pay(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("billing:write", request, context)
        let id = try invoiceID(context), scope = try context.requireTenant(), actor = AuditActor(request, context)
        let form = try await FormBody.read(request)
        let invoice = try await read(id, request, context)
        let currency = Currency(invoice.currency) ?? Currency("USD")!
        let method = form["method"] ?? ""
        do {
            guard let amount = form["amount"].flatMap(currency.minorUnits), amount > 0 else {
                throw BillingError.invalid([.init(field: "amount", message: "must be an amount such as \(currency.plain(invoice.balance))")])
            }
            _ = try await app.billing.recordPayment(id, method: method, amount: amount, reference: form["reference"], in: scope, by: actor)
            return Response.seeOther("/app/billing/invoices/\(id)?paid=1")
        } catch let error as BillingError {
            let problem = error.problem
            var fields = Self.paymentFields(amount: form["amount"], method: method)
            let unplaced = fields.attach((problem.errors ?? []).map { ($0.field, $0.message) })
            var response = try page(invoice, request, context, fields: fields, problem: "The payment was not recorded: \(problem.title.lowercased()).",
                                    detail: unplaced.isEmpty ? (problem.errors == nil ? problem.detail : nil) : unplaced.joined(separator: " "))
            response.status = .init(code: problem.status)
            return response
        }
    }

    private func read(_ id: String, _ request: Request, _ context: WardRequestContext) async throws -> Invoice {
        do {
            return try await app.billing.read(id, in: try context.requireTenant(), by: AuditActor(request, context))
        } catch BillingError.notFound {
            throw PageError.notFound
        }
    }

    static func paymentFields(amount: String?, method: String?) -> [Field] {
        [Field.select("method", "Method", choices: [("cash", "Cash"), ("card", "Card at the desk"), ("insurance", "Insurance"), ("transfer", "Bank transfer")],
                      value: method ?? "cash", required: true),
         Field("amount", "Amount", value: amount, hint: "In the invoice's currency, e.g. 300.50", required: true),
         Field("reference", "Reference", value: nil, hint: "A transfer's or a claim's reference (optional)")]
    }

    private func page(_ invoice: Invoice, _ request: Request, _ context: WardRequestContext, fields: [Field], problem: String? = nil,
                      detail: String? = nil) throws -> Response {
        let currency = Currency(invoice.currency) ?? Currency("USD")!
        let principal = try context.requirePrincipal()
        let zone = WebApp.timeZone(try context.requireTenant())
        var totals = [Total(label: "Subtotal", amount: currency.format(invoice.subtotal)), Total(label: "Tax", amount: currency.format(invoice.taxTotal)),
                      Total(label: "Total", amount: currency.format(invoice.total))]
        if invoice.credited > 0 { totals.append(Total(label: "Credited", amount: currency.format(invoice.credited))) }
        totals += [Total(label: "Paid", amount: currency.format(invoice.paid)), Total(label: "Balance due", amount: currency.format(invoice.balance))]
        let entries = invoice.payments.map { payment in
            Entry(when: ClinicalDocuments.localTime(payment.receivedAt, zone: zone.identifier),
                  label: payment.kind == "refund" ? "Refund (\(payment.method))" : "Payment (\(payment.method))",
                  amount: currency.format(payment.kind == "refund" ? -payment.amount : payment.amount), receipt: payment.receiptNumber ?? "")
        } + invoice.creditNotes.map {
            Entry(when: ClinicalDocuments.localTime($0.createdAt, zone: zone.identifier), label: "Credit note: \($0.reason)", amount: currency.format(-$0.amount),
                  receipt: $0.number)
        }
        let model = InvoiceModel(
            shell: try app.shell(context, current: "/app/billing"), id: invoice.id, number: invoice.number ?? "Draft", status: invoice.status.replacingOccurrences(of: "_", with: " "),
            patientID: invoice.patientID, patientName: invoice.patientName ?? "", due: invoice.dueDate ?? "",
            lines: invoice.lines.map { Line(description: $0.description, quantity: $0.quantity, unit: currency.plain($0.unitAmount),
                                            tax: Money.percent($0.taxRateBP), total: currency.plain($0.total)) },
            totals: totals, entries: entries,
            canPay: principal.permissions.contains("billing:write") && ["issued", "partially_paid"].contains(invoice.status),
            fields: fields, paid: request.uri.queryParameters.get("paid") == "1", problem: problem, problemDetail: detail
        )
        return app.renderer.page("invoice", model)
    }
}
