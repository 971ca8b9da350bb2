package import Foundation
import SQLKit
package import WardAudit
package import WardCore
package import WardHTTP
package import WardStorage

/// A line as a caller asks for it: from the price list (its name, price and tax unless
/// given), or free with a description, a unit amount and a tax rate.
package struct LineRequest: Sendable {
    package var priceItemID: String?
    package var description: String?
    package var unitAmount: Int64?
    package var taxRateBP: Int?
    package var quantity: Int
    package var discountBP: Int
    package var sourceType: String?
    package var sourceID: String?

    package init(priceItemID: String? = nil, description: String? = nil, unitAmount: Int64? = nil, taxRateBP: Int? = nil, quantity: Int = 1,
                 discountBP: Int = 0, sourceType: String? = nil, sourceID: String? = nil) {
        self.priceItemID = priceItemID
        self.description = description
        self.unitAmount = unitAmount
        self.taxRateBP = taxRateBP
        self.quantity = quantity
        self.discountBP = discountBP
        self.sourceType = sourceType
        self.sourceID = sourceID
    }
}

/// Invoices, the price list, payments and credit notes of a clinic. Every change is one
/// transaction with its audit event; invoices are patient data, so reads are audited too.
package struct BillingService: Sendable {
    package let audit: AuditTrail
    package let settings: BillingSettingsStore
    /// Queues an issued invoice's email to the patient; nil where nothing is sent.
    let mail: BillingMail?

    init(audit: AuditTrail, settings: BillingSettingsStore, mail: BillingMail?) {
        self.audit = audit
        self.settings = settings
        self.mail = mail
    }

    static let name = TextField.singleLine(max: 200)
    static let description = TextField.singleLine(max: 300)
    static let note = TextField.freeText(max: 2000)
    static let reason = TextField.freeText(min: 1, max: 500)
    static let reference = TextField.singleLine(max: 100)
    static let codePattern = #"^[A-Za-z0-9-]{1,32}$"#
    static let sourceTypes = ["appointment", "prescription", "document"]

    // MARK: Price list

    package func addPriceItem(code: String, name: String, kind: String, unitAmount: Int64, taxRateBP: Int, in scope: TenantScope,
                              by actor: AuditActor) async throws -> PriceItem {
        var errors: [Problem.FieldError] = []
        if !TextRules.matches(code, Self.codePattern) { errors.append(.init(field: "code", message: "must be 1 to 32 letters, digits or hyphens")) }
        Self.name.check(name, "name", into: &errors)
        if !PriceItem.kinds.contains(kind) { errors.append(.init(field: "kind", message: "must be one of \(PriceItem.kinds.joined(separator: ", "))")) }
        Self.checkAmount(unitAmount, "unit_amount", into: &errors)
        Self.checkRate(taxRateBP, "tax_rate_bp", into: &errors)
        guard errors.isEmpty else { throw BillingError.invalid(errors) }
        let item = PriceItem(id: UUIDv7.id(), code: code.uppercased(), name: name, kind: kind, unitAmount: unitAmount, taxRateBP: taxRateBP, active: 1,
                             createdAt: Timestamp.now())
        let table = try scope.table("price_items")
        let audit = self.audit
        try await scope.transaction { database in
            if try await database.select().column("id").from(table).where("code", .equal, item.code).first() != nil {
                throw BillingError.conflict("The price list has the code \(item.code) already.")
            }
            try await database.insert(into: table).model(item).run()
            try await audit.append(actor.record("create", resourceType: "price_item", resourceID: item.id, details: ["code": item.code]),
                                   in: database, scope: scope)
        }
        return item
    }

    package func priceList(includeInactive: Bool = false, in scope: TenantScope) async throws -> [PriceItem] {
        let table = try scope.table("price_items")
        return try await scope.read { database in
            let query = database.select().columns(PriceItem.columns).from(table)
            if !includeInactive { query.where("active", .equal, 1) }
            return try await query.orderBy("name").limit(2000).all(decoding: PriceItem.self)
        }
    }

    // MARK: Drafts

    /// A draft invoice for an active patient, in the clinic's currency.
    package func createDraft(patientID: String, lines: [LineRequest], note: String?, in scope: TenantScope, by actor: AuditActor) async throws -> Invoice {
        var errors: [Problem.FieldError] = []
        if let message = ParameterFormat.uuid.problem(with: patientID) { errors.append(.init(field: "patient_id", message: message)) }
        Self.checkShape(lines, note: note, into: &errors)
        guard errors.isEmpty else { throw BillingError.invalid(errors) }
        let currency = try await settings.current(in: scope).currency
        let id = UUIDv7.id()
        let invoices = try scope.table("invoices"), patients = try scope.table("patients")
        let audit = self.audit
        try await scope.transaction { database in
            guard try await database.select().column("id").from(patients).where("id", .equal, patientID).where("status", .equal, "active").first() != nil else {
                throw BillingError.invalid([.init(field: "patient_id", message: "names no active patient of this clinic")])
            }
            let resolved = try await Self.resolve(lines, patientID: patientID, in: database, scope: scope)
            try await database.insert(into: invoices)
                .columns("id", "patient_id", "status", "currency", "subtotal", "discount_total", "tax_total", "total", "paid", "credited", "note",
                         "disputed", "created_by", "created_at", "version")
                .values(SQLBind(id), SQLBind(patientID), SQLBind("draft"), SQLBind(currency), SQLBind(Int64(0)), SQLBind(Int64(0)), SQLBind(Int64(0)),
                        SQLBind(Int64(0)), SQLBind(Int64(0)), SQLBind(Int64(0)), SQLBind(note), SQLBind(0), SQLBind(actor.id), SQLBind(Timestamp.now()), SQLBind(1))
                .run()
            try await Self.writeLines(resolved, invoiceID: id, in: database, scope: scope)
            try await audit.append(actor.record("create", resourceType: "invoice", resourceID: id, patientID: patientID,
                                                details: ["lines": String(resolved.count)]), in: database, scope: scope)
        }
        return try await invoice(id, in: scope)
    }

    /// Replaces a draft's lines and note (If-Match version).
    package func updateDraft(_ id: String, lines: [LineRequest], note: String?, expectedVersion: Int, in scope: TenantScope,
                             by actor: AuditActor) async throws -> Invoice {
        var errors: [Problem.FieldError] = []
        Self.checkShape(lines, note: note, into: &errors)
        guard errors.isEmpty else { throw BillingError.invalid(errors) }
        let invoices = try scope.table("invoices"), lineTable = try scope.table("invoice_lines")
        let audit = self.audit
        try await scope.transaction { database in
            let current = try await Self.head(id, in: database, scope: scope)
            guard current.version == expectedVersion else { throw BillingError.versionMismatch(current: current.version) }
            guard current.status == "draft" else { throw BillingError.wrongState("Only a draft can be changed; correct an issued invoice with a credit note.") }
            let resolved = try await Self.resolve(lines, patientID: current.patientID, in: database, scope: scope)
            try await database.delete(from: lineTable).where("invoice_id", .equal, id).run()
            try await database.update(invoices).set("note", to: note).set("version", to: current.version + 1)
                .where("id", .equal, id).where("version", .equal, expectedVersion).run()
            try await Self.writeLines(resolved, invoiceID: id, in: database, scope: scope)
            try await audit.append(actor.record("update", resourceType: "invoice", resourceID: id, patientID: current.patientID,
                                                details: ["lines": String(resolved.count)]), in: database, scope: scope)
        }
        return try await invoice(id, in: scope)
    }

    private static func checkShape(_ lines: [LineRequest], note: String?, into errors: inout [Problem.FieldError]) {
        if lines.isEmpty || lines.count > 100 { errors.append(.init(field: "lines", message: "must hold 1 to 100 lines")) }
        for (index, line) in lines.enumerated() {
            let field = "lines[\(index)]"
            if let priceItemID = line.priceItemID, let message = ParameterFormat.uuid.problem(with: priceItemID) {
                errors.append(.init(field: "\(field).price_item_id", message: message))
            }
            if line.priceItemID == nil {
                if line.description == nil { errors.append(.init(field: "\(field).description", message: "is required without a price_item_id")) }
                if line.unitAmount == nil { errors.append(.init(field: "\(field).unit_amount", message: "is required without a price_item_id")) }
            }
            description.check(line.description, "\(field).description", into: &errors)
            if let amount = line.unitAmount { checkAmount(amount, "\(field).unit_amount", into: &errors) }
            if let rate = line.taxRateBP { checkRate(rate, "\(field).tax_rate_bp", into: &errors) }
            checkRate(line.discountBP, "\(field).discount_bp", into: &errors)
            if !(1...Money.maximumQuantity).contains(line.quantity) {
                errors.append(.init(field: "\(field).quantity", message: "must be 1 to \(Money.maximumQuantity)"))
            }
            switch (line.sourceType, line.sourceID) {
            case (nil, nil): break
            case (let type?, let sourceID?):
                if !sourceTypes.contains(type) { errors.append(.init(field: "\(field).source_type", message: "must be appointment, prescription or document")) }
                if let message = ParameterFormat.uuid.problem(with: sourceID) { errors.append(.init(field: "\(field).source_id", message: message)) }
            default:
                errors.append(.init(field: "\(field).source_id", message: "source_type and source_id go together"))
            }
        }
        note.map { Self.note.check($0, "note", into: &errors) }
    }

    static func checkAmount(_ amount: Int64, _ field: String, into errors: inout [Problem.FieldError]) {
        if !(0...Money.maximumUnitAmount).contains(amount) {
            errors.append(.init(field: field, message: "must be 0 to \(Money.maximumUnitAmount) minor units"))
        }
    }

    static func checkRate(_ rate: Int, _ field: String, into errors: inout [Problem.FieldError]) {
        if !(0...10_000).contains(rate) { errors.append(.init(field: field, message: "must be 0 to 10000 basis points")) }
    }

    /// The lines with their price-list defaults filled in and their figures computed; each
    /// price item must be active and each source a record of this patient.
    private static func resolve(_ lines: [LineRequest], patientID: String, in database: any SQLDatabase, scope: TenantScope) async throws -> [InvoiceLine] {
        let ids = Array(Set(lines.compactMap(\.priceItemID)))
        var items: [String: PriceItem] = [:]
        if !ids.isEmpty {
            for item in try await database.select().columns(PriceItem.columns).from(try scope.table("price_items"))
                .where("id", .in, SQLBind.group(ids)).where("active", .equal, 1).all(decoding: PriceItem.self) {
                items[item.id] = item
            }
        }
        var resolved: [InvoiceLine] = []
        for (index, line) in lines.enumerated() {
            var description = line.description, unitAmount = line.unitAmount, taxRate = line.taxRateBP
            if let priceItemID = line.priceItemID {
                guard let item = items[priceItemID] else {
                    throw BillingError.invalid([.init(field: "lines[\(index)].price_item_id", message: "names no active entry of the price list")])
                }
                description = description ?? item.name
                unitAmount = unitAmount ?? item.unitAmount
                taxRate = taxRate ?? item.taxRateBP
            }
            if let type = line.sourceType, let sourceID = line.sourceID {
                let table = try scope.table(type == "appointment" ? "appointments" : type == "prescription" ? "prescriptions" : "documents")
                guard try await database.select().column("id").from(table).where("id", .equal, sourceID).where("patient_id", .equal, patientID).first() != nil else {
                    throw BillingError.invalid([.init(field: "lines[\(index)].source_id", message: "names no \(type) of this patient")])
                }
            }
            let figures = Money.line(quantity: line.quantity, unitAmount: unitAmount ?? 0, discountBasisPoints: line.discountBP, taxBasisPoints: taxRate ?? 0)
            resolved.append(InvoiceLine(position: index + 1, description: description ?? "", sourceType: line.sourceType, sourceID: line.sourceID,
                                        priceItemID: line.priceItemID, quantity: line.quantity, unitAmount: unitAmount ?? 0, discountBP: line.discountBP,
                                        taxRateBP: taxRate ?? 0, discount: figures.discount, net: figures.net, tax: figures.tax, total: figures.total))
        }
        return resolved
    }

    /// Writes the lines and the invoice's totals, the sums of its rounded lines.
    private static func writeLines(_ lines: [InvoiceLine], invoiceID: String, in database: any SQLDatabase, scope: TenantScope) async throws {
        let insert = database.insert(into: try scope.table("invoice_lines")).columns(["invoice_id"] + InvoiceLine.columns)
        for line in lines {
            insert.values([SQLBind(invoiceID), SQLBind(line.position), SQLBind(line.description), SQLBind(line.sourceType), SQLBind(line.sourceID),
                           SQLBind(line.priceItemID), SQLBind(line.quantity), SQLBind(line.unitAmount), SQLBind(line.discountBP), SQLBind(line.taxRateBP),
                           SQLBind(line.discount), SQLBind(line.net), SQLBind(line.tax)])
        }
        try await insert.run()
        let subtotal = lines.reduce(Int64(0)) { $0 + $1.net + $1.discount }, discount = lines.reduce(Int64(0)) { $0 + $1.discount }
        let net = lines.reduce(Int64(0)) { $0 + $1.net }, tax = lines.reduce(Int64(0)) { $0 + $1.tax }
        try await database.update(try scope.table("invoices")).set("subtotal", to: subtotal).set("discount_total", to: discount)
            .set("tax_total", to: tax).set("total", to: net + tax).where("id", .equal, invoiceID).run()
    }

    // MARK: Issuing and voiding

    /// Issues a draft: it takes the next number of its year (no gaps: a failed issue gives its
    /// number back), its due date from the payment terms, and becomes immutable. The patient
    /// is emailed the PDF when the record has an address.
    package func issue(_ id: String, expectedVersion: Int?, in scope: TenantScope, by actor: AuditActor) async throws -> Invoice {
        let current = try await settings.current(in: scope)
        let zone = TimeZone(identifier: scope.tenant.timeZone) ?? .gmt
        let invoices = try scope.table("invoices")
        let audit = self.audit
        let issued = try await scope.transaction { database -> Invoice in
            let invoice = try await Self.head(id, in: database, scope: scope)
            if let expectedVersion, invoice.version != expectedVersion { throw BillingError.versionMismatch(current: invoice.version) }
            guard invoice.status == "draft" else { throw BillingError.wrongState("The invoice is \(invoice.status), not a draft.") }
            let now = Date()
            let year = Timestamp.format(now, "yyyy", in: zone)
            let sequence = try await Self.nextNumber("invoice:\(year)", in: database, scope: scope)
            let number = "\(current.invoicePrefix)\(year)-\(String(format: "%06d", sequence))"
            let due = Timestamp.format(now.addingTimeInterval(Double(current.paymentTermsDays) * 86_400), "yyyy-MM-dd", in: zone)
            let status = invoice.total == 0 ? "paid" : "issued"
            try await database.update(invoices).set("status", to: status).set("number", to: number).set("issued_at", to: Timestamp.text(now))
                .set("due_date", to: due).set("version", to: invoice.version + 1).where("id", .equal, id).where("version", .equal, invoice.version).run()
            try await audit.append(actor.record("issue", resourceType: "invoice", resourceID: id, patientID: invoice.patientID,
                                                details: ["number": number, "total": String(invoice.total), "currency": invoice.currency]),
                                   in: database, scope: scope)
            return invoice
        }
        if let mail { try await mail.invoiceIssued(id, patientID: issued.patientID, in: scope) }
        return try await invoice(id, in: scope)
    }

    /// Voids an invoice nothing has been paid or credited on; its number stays used.
    package func void(_ id: String, reason: String, in scope: TenantScope, by actor: AuditActor) async throws -> Invoice {
        var errors: [Problem.FieldError] = []
        Self.reason.check(reason, "reason", into: &errors)
        guard errors.isEmpty else { throw BillingError.invalid(errors) }
        let invoices = try scope.table("invoices")
        let audit = self.audit
        try await scope.transaction { database in
            let invoice = try await Self.head(id, in: database, scope: scope)
            guard ["draft", "issued"].contains(invoice.status), invoice.paid == 0, invoice.credited == 0 else {
                throw BillingError.wrongState("Only an invoice with nothing paid or credited can be voided; this one is \(invoice.status). Issue a credit note instead.")
            }
            try await database.update(invoices).set("status", to: "void").set("voided_at", to: Timestamp.now()).set("void_reason", to: reason)
                .set("version", to: invoice.version + 1).where("id", .equal, id).where("version", .equal, invoice.version).run()
            try await audit.append(actor.record("void", resourceType: "invoice", resourceID: id, patientID: invoice.patientID, reason: reason),
                                   in: database, scope: scope)
        }
        return try await invoice(id, in: scope)
    }

    /// The next value of a gap-free sequence (`invoice:2026`, `credit_note:2026`,
    /// `receipt:2026`), inside the caller's transaction. The counter's row stays locked until
    /// the transaction ends, so concurrent issues take consecutive numbers, and a rollback
    /// gives the number back.
    static func nextNumber(_ sequence: String, in database: any SQLDatabase, scope: TenantScope) async throws -> Int64 {
        let counters = try scope.table("billing_counters")
        try await database.raw("INSERT INTO \(counters) (name, next_value) VALUES (\(bind: sequence), 0) ON CONFLICT (name) DO NOTHING").run()
        guard let row = try await database.raw("UPDATE \(counters) SET next_value = next_value + 1 WHERE name = \(bind: sequence) RETURNING next_value").first() else {
            throw BillingError.conflict("The \(sequence) sequence could not be advanced.")
        }
        return try row.decode(column: "next_value", as: Int64.self)
    }

    // MARK: Payments and credit notes

    /// Records money received at the desk or by transfer or insurance: at most the balance.
    package func recordPayment(_ id: String, method: String, amount: Int64, reference: String?, in scope: TenantScope, by actor: AuditActor) async throws -> Payment {
        var errors: [Problem.FieldError] = []
        if !Payment.methods.contains(method) { errors.append(.init(field: "method", message: "must be cash, card, insurance or transfer")) }
        if amount <= 0 || amount > Money.maximumUnitAmount * 100 { errors.append(.init(field: "amount", message: "must be a positive amount in minor units")) }
        Self.reference.check(reference, "reference", into: &errors)
        guard errors.isEmpty else { throw BillingError.invalid(errors) }
        let audit = self.audit
        return try await scope.transaction { database in
            let invoice = try await Self.head(id, in: database, scope: scope)
            guard ["issued", "partially_paid"].contains(invoice.status) else { throw BillingError.wrongState("The invoice is \(invoice.status): nothing is owed on it.") }
            guard amount <= invoice.balance else {
                throw BillingError.invalid([.init(field: "amount", message: "must be at most the balance, \(invoice.balance)")])
            }
            let payment = try await Self.insertPayment(to: invoice, kind: "payment", method: method, amount: amount, reference: reference, stripeID: nil,
                                                       creditNoteID: nil, by: actor.id, in: database, scope: scope)
            try await audit.append(actor.record("payment_recorded", resourceType: "invoice", resourceID: id, patientID: invoice.patientID,
                                                details: ["method": method, "amount": String(amount), "currency": invoice.currency,
                                                          "receipt": payment.receiptNumber ?? ""]), in: database, scope: scope)
            return payment
        }
    }

    /// Inserts a payment (with its receipt number) or a refund and settles the invoice's
    /// figures and status, inside the caller's transaction.
    static func insertPayment(to invoice: Invoice, kind: String, method: String, amount: Int64, reference: String?, stripeID: String?, creditNoteID: String?,
                              by recorder: String?, in database: any SQLDatabase, scope: TenantScope) async throws -> Payment {
        let zone = TimeZone(identifier: scope.tenant.timeZone) ?? .gmt
        let now = Date()
        var receipt: String?
        if kind == "payment" {
            let year = Timestamp.format(now, "yyyy", in: zone)
            receipt = "R\(year)-\(String(format: "%06d", try await nextNumber("receipt:\(year)", in: database, scope: scope)))"
        }
        let payment = Payment(id: UUIDv7.id(), invoiceID: invoice.id, kind: kind, method: method, amount: amount, currency: invoice.currency,
                              reference: reference, receiptNumber: receipt, stripeID: stripeID, creditNoteID: creditNoteID,
                              receivedAt: Timestamp.text(now), recordedBy: recorder)
        try await database.insert(into: try scope.table("payments")).columns(Payment.columns + ["created_at"])
            .values(SQLBind(payment.id), SQLBind(payment.invoiceID), SQLBind(kind), SQLBind(method), SQLBind(amount), SQLBind(payment.currency),
                    SQLBind(reference), SQLBind(receipt), SQLBind(stripeID), SQLBind(creditNoteID), SQLBind(payment.receivedAt), SQLBind(recorder),
                    SQLBind(payment.receivedAt))
            .run()
        let paid = invoice.paid + (kind == "payment" ? amount : -amount)
        try await settle(invoice, paid: paid, credited: invoice.credited, in: database, scope: scope)
        return payment
    }

    /// Writes new paid and credited figures and the status they give, guarded by the version
    /// read (a concurrent change makes the transaction fail rather than lose an amount).
    static func settle(_ invoice: Invoice, paid: Int64, credited: Int64, disputed: Bool? = nil, in database: any SQLDatabase, scope: TenantScope) async throws {
        let status = invoice.status == "void" || invoice.status == "draft" ? invoice.status : Invoice.settledStatus(total: invoice.total, paid: paid, credited: credited)
        let query = database.update(try scope.table("invoices")).set("paid", to: paid).set("credited", to: credited).set("status", to: status)
            .set("version", to: invoice.version + 1)
        if let disputed { query.set("disputed", to: disputed ? 1 : 0) }
        guard try await query.where("id", .equal, invoice.id).where("version", .equal, invoice.version).returning("id").first() != nil else {
            throw BillingError.conflict("The invoice changed while this was recorded; try again.")
        }
    }

    /// What a credit note of `amount` on `invoice` gives back in money: what was paid beyond
    /// what the invoice asks once credited.
    static func refundDue(on invoice: Invoice, crediting amount: Int64) -> Int64 {
        max(0, min(amount, invoice.paid - (invoice.total - invoice.credited - amount)))
    }

    /// Issues a credit note; money paid beyond the reduced total is refunded by `refundMethod`
    /// (`stripe` goes through `StripePayments`, which calls this with the refund made).
    package func creditNote(_ id: String, amount: Int64, reason: String, refundMethod: String?, stripeRefund: (id: String, paymentIntent: String)? = nil,
                            in scope: TenantScope, by actor: AuditActor) async throws -> CreditNote {
        let audit = self.audit
        return try await scope.transaction { database in
            let invoice = try await Self.head(id, in: database, scope: scope)
            try Self.checkCredit(invoice, amount: amount, reason: reason, refundMethod: refundMethod)
            let refund = Self.refundDue(on: invoice, crediting: amount)
            let zone = TimeZone(identifier: scope.tenant.timeZone) ?? .gmt
            let year = Timestamp.format(Date(), "yyyy", in: zone)
            let prefix = try await settingsPrefix(in: database, scope: scope)
            let number = "\(prefix)CN\(year)-\(String(format: "%06d", try await Self.nextNumber("credit_note:\(year)", in: database, scope: scope)))"
            let note = CreditNote(id: UUIDv7.id(), number: number, invoiceID: id, amount: amount, reason: reason, refundAmount: refund,
                                  refundMethod: refund > 0 ? refundMethod : nil, createdBy: actor.id, createdAt: Timestamp.now())
            try await database.insert(into: try scope.table("credit_notes")).columns(CreditNote.columns)
                .values(SQLBind(note.id), SQLBind(number), SQLBind(id), SQLBind(amount), SQLBind(reason), SQLBind(refund), SQLBind(note.refundMethod),
                        SQLBind(actor.id), SQLBind(note.createdAt))
                .run()
            var settled = invoice
            settled.credited += amount
            if refund > 0, let method = refundMethod {
                _ = try await Self.insertPayment(to: settled, kind: "refund", method: method, amount: refund, reference: stripeRefund?.paymentIntent,
                                                 stripeID: stripeRefund?.id, creditNoteID: note.id, by: actor.id, in: database, scope: scope)
            } else {
                try await Self.settle(invoice, paid: invoice.paid, credited: settled.credited, in: database, scope: scope)
            }
            try await audit.append(actor.record("credit_note", resourceType: "invoice", resourceID: id, patientID: invoice.patientID, reason: reason,
                                                details: ["number": number, "amount": String(amount), "refund": String(refund),
                                                          "refund_method": note.refundMethod ?? "none"]), in: database, scope: scope)
            if refund > 0 {
                try await audit.append(actor.record("payment_refunded", resourceType: "invoice", resourceID: id, patientID: invoice.patientID,
                                                    details: ["amount": String(refund), "method": refundMethod ?? "", "stripe_refund": stripeRefund?.id ?? ""]),
                                       in: database, scope: scope)
            }
            return note
        }
    }

    static func checkCredit(_ invoice: Invoice, amount: Int64, reason: String, refundMethod: String?) throws {
        var errors: [Problem.FieldError] = []
        Self.reason.check(reason, "reason", into: &errors)
        if let refundMethod, !(["stripe"] + Payment.methods).contains(refundMethod) {
            errors.append(.init(field: "refund_method", message: "must be stripe, cash, card, insurance or transfer"))
        }
        guard ["issued", "partially_paid", "paid"].contains(invoice.status) else {
            throw BillingError.wrongState("Credit notes are for issued invoices; this one is \(invoice.status).")
        }
        if amount <= 0 || amount > invoice.total - invoice.credited {
            errors.append(.init(field: "amount", message: "must be 1 to \(invoice.total - invoice.credited), what the invoice has not been credited yet"))
        }
        if errors.isEmpty, refundDue(on: invoice, crediting: amount) > 0, refundMethod == nil {
            errors.append(.init(field: "refund_method", message: "is required: this credit gives money back"))
        }
        guard errors.isEmpty else { throw BillingError.invalid(errors) }
    }

    private func settingsPrefix(in database: any SQLDatabase, scope: TenantScope) async throws -> String {
        try await database.select().column("invoice_prefix").from(try scope.table("billing_settings")).where("id", .equal, 1).first()?
            .decode(column: "invoice_prefix", as: String.self) ?? BillingSettingsStore.defaultPrefix
    }

    // MARK: Reading

    /// The invoice with its lines, payments and credit notes (not audited: callers that show
    /// it to someone audit the read).
    package func invoice(_ id: String, in scope: TenantScope) async throws -> Invoice {
        try await scope.read { database in try await Self.full(id, in: database, scope: scope) }
    }

    /// The invoice, audited as a read of the patient's data.
    package func read(_ id: String, in scope: TenantScope, by actor: AuditActor) async throws -> Invoice {
        let invoice = try await invoice(id, in: scope)
        try await audit.recordRead(actor.record("read", resourceType: "invoice", resourceID: id, patientID: invoice.patientID), in: scope)
        return invoice
    }

    /// Invoices newest first, by patient and status; audited per patient named.
    package func list(patientID: String?, status: String?, limit: Int, in scope: TenantScope, by actor: AuditActor) async throws -> [Invoice] {
        let invoices = try scope.table("invoices"), patients = try scope.table("patients")
        let found = try await scope.read { database -> [Invoice] in
            let query = database.select().columns(Invoice.columns.map { SQLColumn($0, table: "i") as any SQLExpression }).column(SQLColumn("given_name", table: "p"))
                .column(SQLColumn("family_name", table: "p")).from(SQLAlias(invoices, as: SQLIdentifier("i")))
                .join(SQLAlias(patients, as: SQLIdentifier("p")), on: SQLColumn("patient_id", table: "i"), .equal, SQLColumn("id", table: "p"))
            if let patientID { query.where(SQLColumn("patient_id", table: "i"), .equal, SQLBind(patientID)) }
            if let status { query.where(SQLColumn("status", table: "i"), .equal, SQLBind(status)) }
            return try await query.orderBy(SQLColumn("created_at", table: "i"), SQLDirection.descending).limit(limit).all().map { row in
                var invoice = try Invoice.head(row)
                invoice.patientName = "\(try row.decode(column: "given_name", as: String.self)) \(try row.decode(column: "family_name", as: String.self))"
                return invoice
            }
        }
        for patient in Set(found.map(\.patientID)).sorted() {
            try await audit.recordRead(actor.record("read", resourceType: "invoice", patientID: patient,
                                                    details: ["returned": String(found.filter { $0.patientID == patient }.count)]), in: scope)
        }
        return found
    }

    static func head(_ id: String, in database: any SQLDatabase, scope: TenantScope) async throws -> Invoice {
        guard ParameterFormat.uuid.problem(with: id) == nil,
              let row = try await database.select().columns(Invoice.columns).from(try scope.table("invoices")).where("id", .equal, id).first() else {
            throw BillingError.notFound("invoice")
        }
        return try Invoice.head(row)
    }

    static func full(_ id: String, in database: any SQLDatabase, scope: TenantScope) async throws -> Invoice {
        var invoice = try await head(id, in: database, scope: scope)
        invoice.lines = try await database.select().columns(InvoiceLine.columns).from(try scope.table("invoice_lines")).where("invoice_id", .equal, id)
            .orderBy("position").all().map(InvoiceLine.from)
        invoice.payments = try await database.select().columns(Payment.columns).from(try scope.table("payments")).where("invoice_id", .equal, id)
            .orderBy("received_at").all(decoding: Payment.self)
        invoice.creditNotes = try await database.select().columns(CreditNote.columns).from(try scope.table("credit_notes")).where("invoice_id", .equal, id)
            .orderBy("created_at").all(decoding: CreditNote.self)
        if let patient = try await database.select().columns("given_name", "family_name").from(try scope.table("patients"))
            .where("id", .equal, invoice.patientID).first() {
            invoice.patientName = "\(try patient.decode(column: "given_name", as: String.self)) \(try patient.decode(column: "family_name", as: String.self))"
        }
        return invoice
    }
}
