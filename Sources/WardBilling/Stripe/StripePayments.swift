package import Foundation
import Logging
import SQLKit
package import WardAudit
package import WardCore
package import WardHTTP
package import WardStorage

/// What Ward hands a caller to collect a card with Stripe: the PaymentIntent and its client
/// secret, for Stripe.js (a patient portal, a payment page) or a Stripe terminal at the desk.
package struct StripePaymentView: Codable, Sendable, APIResponseBody {
    package static var schemaName: String { "StripePayment" }
    package var paymentIntentID: String
    package var clientSecret: String
    package var amount: Int64
    package var currency: String
    package var status: String

    enum CodingKeys: String, CodingKey {
        case amount, currency, status
        case paymentIntentID = "payment_intent_id", clientSecret = "client_secret"
    }
}

/// How a delivered webhook event was taken.
package struct WebhookReceipt: Codable, Sendable, APIResponseBody {
    package static var schemaName: String { "StripeWebhookReceipt" }
    package var received: Bool
    package var duplicate: Bool
    package var outcome: String
}

/// Card payments through Stripe: a PaymentIntent per invoice balance, refunds for credit
/// notes, and the webhook events that report what happened, each applied exactly once.
package struct StripePayments: Sendable {
    let billing: BillingService
    let client: StripeClient
    let tenants: TenantDirectory
    let logger: Logger
    /// How Stripe's events appear in the audit trail.
    static let actor = AuditActor(type: .system, name: "stripe")

    init(billing: BillingService, client: StripeClient, tenants: TenantDirectory, logger: Logger) {
        self.billing = billing
        self.client = client
        self.tenants = tenants
        self.logger = logger
    }

    // MARK: Calls to Stripe

    /// A PaymentIntent for the invoice's balance. Asked twice for the same balance, the same
    /// open PaymentIntent is returned: its idempotency key is the invoice and its version.
    package func paymentIntent(for id: String, in scope: TenantScope, by actor: AuditActor) async throws -> StripePaymentView {
        guard let key = try await billing.settings.current(in: scope).stripeSecretKey else { throw BillingError.stripeNotConfigured }
        let invoice = try await billing.invoice(id, in: scope)
        guard ["issued", "partially_paid"].contains(invoice.status), invoice.balance > 0 else {
            throw BillingError.wrongState("The invoice is \(invoice.status): nothing is owed on it.")
        }
        let intents = try scope.table("stripe_payment_intents")
        let unpaid = try await scope.read { database in
            try await database.select().columns("id", "amount").from(intents).where("invoice_id", .equal, id)
                .where("status", .in, ["requires_payment_method", "requires_confirmation", "requires_action"])
                .orderBy("created_at", .descending).all()
                .map { (id: try $0.decode(column: "id", as: String.self), amount: try $0.decode(column: "amount", as: Int64.self)) }
        }
        let open = unpaid.first { $0.amount == invoice.balance }?.id
        // One asking an amount the invoice no longer owes (paid in part since) is cancelled, so
        // an old link cannot take more than is owed.
        for stale in unpaid where stale.amount != invoice.balance {
            do {
                _ = try await client.cancelPaymentIntent(key: key, id: stale.id)
                try await scope.transaction { database in
                    try await database.update(intents).set("status", to: "canceled").where("id", .equal, stale.id).where("status", .notEqual, "succeeded").run()
                }
            } catch {
                logger.warning("a stale PaymentIntent could not be cancelled", metadata: ["payment_intent": "\(stale.id)", "error": "\(error)"])
            }
        }
        let object: StripeClient.Object
        if let open {
            object = try await client.retrievePaymentIntent(key: key, id: open)
        } else {
            object = try await client.createPaymentIntent(
                key: key, amount: invoice.balance, currency: invoice.currency,
                metadata: ["ward_tenant": scope.tenant.id, "invoice_id": invoice.id, "invoice_number": invoice.number ?? "", "clinic": scope.tenant.name],
                idempotencyKey: "ward-\(scope.tenant.id)-\(invoice.id)-intent-v\(invoice.version)"
            )
            let created = Int64(Date().timeIntervalSince1970)
            try await scope.transaction { database in
                try await database.raw("""
                    INSERT INTO \(intents) (id, invoice_id, amount, currency, status, status_at, created_at)
                    VALUES (\(bind: object.id), \(bind: invoice.id), \(bind: invoice.balance), \(bind: invoice.currency),
                            \(bind: object.string("status") ?? "requires_payment_method"), \(bind: created), \(bind: Timestamp.now()))
                    ON CONFLICT (id) DO NOTHING
                    """).run()
                _ = try await billing.audit.append(actor.record("payment_created", resourceType: "invoice", resourceID: invoice.id, patientID: invoice.patientID,
                                                                details: ["payment_intent": object.id, "amount": String(invoice.balance), "currency": invoice.currency]),
                                                   in: database, scope: scope)
            }
        }
        guard let secret = object.string("client_secret") else { throw BillingError.stripeMalformed }
        return StripePaymentView(paymentIntentID: object.id, clientSecret: secret, amount: object.integer("amount") ?? invoice.balance,
                                 currency: invoice.currency, status: object.string("status") ?? "requires_payment_method")
    }

    /// A credit note whose money goes back to the card it came from: the refund is made at
    /// Stripe first (idempotent on the invoice's version, so a retry refunds once), then the
    /// credit note and the refund are recorded together.
    package func creditNoteRefundingCard(_ id: String, amount: Int64, reason: String, in scope: TenantScope, by actor: AuditActor) async throws -> CreditNote {
        guard let key = try await billing.settings.current(in: scope).stripeSecretKey else { throw BillingError.stripeNotConfigured }
        let invoice = try await billing.invoice(id, in: scope)
        try BillingService.checkCredit(invoice, amount: amount, reason: reason, refundMethod: "stripe")
        let refund = BillingService.refundDue(on: invoice, crediting: amount)
        guard refund > 0 else {
            return try await billing.creditNote(id, amount: amount, reason: reason, refundMethod: nil, in: scope, by: actor)
        }
        // The card payment with enough left to refund, newest first.
        let cards = invoice.payments.filter { $0.kind == "payment" && $0.method == "stripe" && $0.stripeID != nil }.reversed()
        let refunded = Dictionary(grouping: invoice.payments.filter { $0.kind == "refund" && $0.method == "stripe" }, by: { $0.reference ?? "" })
            .mapValues { $0.reduce(Int64(0)) { $0 + $1.amount } }
        guard let card = cards.first(where: { $0.amount - (refunded[$0.stripeID!] ?? 0) >= refund }), let intent = card.stripeID else {
            throw BillingError.invalid([.init(field: "refund_method", message: "no card payment through Stripe on this invoice covers a refund of \(refund)")])
        }
        let made = try await client.refund(key: key, paymentIntent: intent, amount: refund,
                                           metadata: ["ward_tenant": scope.tenant.id, "invoice_id": id],
                                           idempotencyKey: "ward-\(scope.tenant.id)-\(id)-refund-v\(invoice.version)-\(refund)")
        return try await billing.creditNote(id, amount: amount, reason: reason, refundMethod: "stripe", stripeRefund: (made.id, intent), in: scope, by: actor)
    }

    // MARK: Webhooks

    /// Takes one delivery of an event for the tenant `slug`: verified against the clinic's
    /// signing secrets, then applied exactly once by its id (the event's row and its effects
    /// commit together; a second delivery, concurrent or later, finds the row and changes
    /// nothing).
    package func receive(slug: String, signature: String?, payload: [UInt8], now: Date = Date()) async throws -> WebhookReceipt {
        guard let scope = try? await tenants.activeScope(slug: slug) else { throw WebhookError.unknownTenant }
        let secrets = try await billing.settings.current(in: scope).webhookSecrets
        guard !secrets.isEmpty else { throw WebhookError.notConfigured }
        do {
            try StripeSignature.verify(header: signature, payload: payload, secrets: secrets, now: now)
        } catch let failure as StripeSignature.Failure {
            logger.warning("Stripe webhook refused", metadata: ["tenant_id": "\(slug)", "reason": "\(failure)"])
            throw WebhookError.signature(failure)
        }
        guard let event = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any],
              let id = event["id"] as? String, let type = event["type"] as? String,
              let object = (event["data"] as? [String: Any])?["object"] as? [String: Any] else {
            throw WebhookError.malformed
        }
        let created = (event["created"] as? NSNumber)?.int64Value ?? Int64(now.timeIntervalSince1970)
        for attempt in 1...3 {
            do {
                return try await apply(id: id, type: type, created: created, object: object, in: scope)
            } catch BillingError.conflict(let detail) where attempt < 3 {
                logger.info("Stripe event raced another change; applying again", metadata: ["event": "\(id)", "detail": "\(detail)"])
            }
        }
        throw BillingError.conflict("The event could not be applied; Stripe will deliver it again.")
    }

    private func apply(id: String, type: String, created: Int64, object: [String: Any], in scope: TenantScope) async throws -> WebhookReceipt {
        let events = try scope.table("stripe_events")
        let objectID = object["id"] as? String
        let fields = StripeClient.Object(fields: object)
        return try await scope.transaction { database in
            guard try await database.raw("""
                INSERT INTO \(events) (id, type, object_id, outcome, received_at) VALUES (\(bind: id), \(bind: type), \(bind: objectID), 'pending', \(bind: Timestamp.now()))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """).first() != nil else {
                return WebhookReceipt(received: true, duplicate: true, outcome: "duplicate")
            }
            let outcome = try await effect(type: type, created: created, object: fields.fields, in: database, scope: scope)
            try await database.update(events).set("outcome", to: outcome).where("id", .equal, id).run()
            return WebhookReceipt(received: true, duplicate: false, outcome: outcome)
        }
    }

    /// What the event changes, inside its transaction; returns the outcome recorded.
    private func effect(type: String, created: Int64, object: [String: Any], in database: any SQLDatabase, scope: TenantScope) async throws -> String {
        let metadata = object["metadata"] as? [String: Any] ?? [:]
        if let tenant = metadata["ward_tenant"] as? String, tenant != scope.tenant.id { return "ignored: another clinic's payment" }
        let audit = billing.audit, actor = Self.actor
        switch type {
        case "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled", "payment_intent.processing",
             "payment_intent.requires_action", "payment_intent.created":
            guard let intent = object["id"] as? String, let invoiceID = metadata["invoice_id"] as? String,
                  let invoice = try? await BillingService.head(invoiceID, in: database, scope: scope) else { return "ignored: no invoice of this clinic" }
            let status = type == "payment_intent.succeeded" ? "succeeded" : (object["status"] as? String ?? String(type.dropFirst("payment_intent.".count)))
            try await track(intent, invoice: invoice, amount: (object["amount"] as? NSNumber)?.int64Value ?? 0, status: status, at: created,
                            in: database, scope: scope)
            switch type {
            case "payment_intent.succeeded":
                let amount = (object["amount_received"] as? NSNumber)?.int64Value ?? (object["amount"] as? NSNumber)?.int64Value ?? 0
                guard (object["currency"] as? String)?.uppercased() == invoice.currency, amount > 0 else { return "ignored: amount or currency unlike the invoice's" }
                if try await database.select().column("id").from(try scope.table("payments")).where("stripe_id", .equal, intent).first() != nil {
                    return "already recorded"
                }
                let payment = try await BillingService.insertPayment(to: invoice, kind: "payment", method: "stripe", amount: amount, reference: object["latest_charge"] as? String,
                                                                     stripeID: intent, creditNoteID: nil, by: nil, in: database, scope: scope)
                try await audit.append(actor.record("payment_succeeded", resourceType: "invoice", resourceID: invoice.id, patientID: invoice.patientID,
                                                    details: ["payment_intent": intent, "amount": String(amount), "currency": invoice.currency,
                                                              "receipt": payment.receiptNumber ?? ""]), in: database, scope: scope)
                return "payment recorded"
            case "payment_intent.payment_failed":
                let error = object["last_payment_error"] as? [String: Any]
                try await audit.append(actor.record("payment_failed", resourceType: "invoice", resourceID: invoice.id, patientID: invoice.patientID,
                                                    outcome: .error, details: ["payment_intent": intent, "code": error?["code"] as? String ?? "",
                                                                               "decline_code": error?["decline_code"] as? String ?? ""]),
                                       in: database, scope: scope)
                return "failure recorded"
            default:
                try await audit.append(actor.record("payment_\(status)", resourceType: "invoice", resourceID: invoice.id, patientID: invoice.patientID,
                                                    details: ["payment_intent": intent]), in: database, scope: scope)
                return "status recorded"
            }
        case "charge.refunded":
            guard let intent = object["payment_intent"] as? String, let invoice = try await invoice(paidBy: intent, in: database, scope: scope) else {
                return "ignored: no invoice of this clinic"
            }
            let refunds = ((object["refunds"] as? [String: Any])?["data"] as? [[String: Any]]) ?? []
            var recorded = 0
            var current = invoice
            for refund in refunds {
                guard let refundID = refund["id"] as? String, let amount = (refund["amount"] as? NSNumber)?.int64Value, amount > 0,
                      (refund["status"] as? String ?? "succeeded") == "succeeded" else { continue }
                if try await database.select().column("id").from(try scope.table("payments")).where("stripe_id", .equal, refundID).first() != nil { continue }
                _ = try await BillingService.insertPayment(to: current, kind: "refund", method: "stripe", amount: amount, reference: intent, stripeID: refundID,
                                                           creditNoteID: nil, by: nil, in: database, scope: scope)
                try await audit.append(actor.record("payment_refunded", resourceType: "invoice", resourceID: invoice.id, patientID: invoice.patientID,
                                                    details: ["payment_intent": intent, "refund": refundID, "amount": String(amount)]), in: database, scope: scope)
                current = try await BillingService.head(invoice.id, in: database, scope: scope)
                recorded += 1
            }
            return recorded == 0 ? "refunds known already" : "refunds recorded"
        case "charge.dispute.created", "charge.dispute.closed":
            guard let intent = object["payment_intent"] as? String, let invoice = try await invoice(paidBy: intent, in: database, scope: scope) else {
                return "ignored: no invoice of this clinic"
            }
            let opened = type == "charge.dispute.created"
            let status = object["status"] as? String ?? ""
            // A dispute the clinic won clears the flag; one lost stays flagged for the clerk.
            let flagged = opened || status != "won"
            try await BillingService.settle(invoice, paid: invoice.paid, credited: invoice.credited, disputed: flagged, in: database, scope: scope)
            try await audit.append(actor.record(opened ? "payment_disputed" : "payment_dispute_closed", resourceType: "invoice", resourceID: invoice.id,
                                                patientID: invoice.patientID, details: ["payment_intent": intent, "dispute": object["id"] as? String ?? "",
                                                                                        "status": status, "amount": String((object["amount"] as? NSNumber)?.int64Value ?? 0)]),
                                   in: database, scope: scope)
            return opened ? "dispute recorded" : "dispute closed"
        default:
            return "ignored: not an event Ward acts on"
        }
    }

    /// Keeps the PaymentIntent's latest status: an event older than the one recorded (Stripe
    /// does not promise order) does not move it back, and nothing moves it from succeeded.
    private func track(_ intent: String, invoice: Invoice, amount: Int64, status: String, at created: Int64, in database: any SQLDatabase, scope: TenantScope) async throws {
        let intents = try scope.table("stripe_payment_intents")
        try await database.raw("""
            INSERT INTO \(intents) (id, invoice_id, amount, currency, status, status_at, created_at)
            VALUES (\(bind: intent), \(bind: invoice.id), \(bind: amount), \(bind: invoice.currency), \(bind: status), \(bind: created), \(bind: Timestamp.now()))
            ON CONFLICT (id) DO NOTHING
            """).run()
        try await database.update(intents).set("status", to: status).set("status_at", to: created)
            .where("id", .equal, intent).where("status", .notEqual, "succeeded").where("status_at", .lessThanOrEqual, created).run()
    }

    private func invoice(paidBy intent: String, in database: any SQLDatabase, scope: TenantScope) async throws -> Invoice? {
        guard let row = try await database.select().column("invoice_id").from(try scope.table("stripe_payment_intents")).where("id", .equal, intent).first() else {
            return nil
        }
        return try await BillingService.head(try row.decode(column: "invoice_id", as: String.self), in: database, scope: scope)
    }
}

/// Why a webhook delivery was not taken, as the problem Stripe is answered with (Stripe
/// retries anything but a 2xx for three days).
package enum WebhookError: Error, ProblemConvertible {
    case unknownTenant
    case notConfigured
    case signature(StripeSignature.Failure)
    case malformed
    case notJSON

    package var problem: Problem {
        switch self {
        case .unknownTenant:
            Problem(status: 404, title: "Not found", detail: "No active clinic has this address.")
        case .notConfigured:
            Problem(status: 404, title: "Webhooks not set up", detail: "This clinic has no Stripe signing secret.")
        case .signature(.outsideTolerance):
            Problem(status: 400, title: "Signature too old", detail: "The signature's timestamp is more than 5 minutes from now: a replay is refused.")
        case .signature:
            Problem(status: 400, title: "Invalid signature", detail: "The Stripe-Signature header does not match the body under this clinic's signing secrets.")
        case .malformed:
            Problem(status: 400, title: "Malformed event", detail: "The body is not a Stripe event.")
        case .notJSON:
            Problem(status: 415, title: "Unsupported media type", detail: "Stripe's events are application/json.")
        }
    }
}
