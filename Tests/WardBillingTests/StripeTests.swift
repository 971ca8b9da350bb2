import Foundation
import HTTPTypes
import Testing
import WardServer
import WardTestSupport

/// Card payments: webhooks signed by the official `stripe` library, and the whole path through
/// a running Stripe stand-in (localstripe) that creates PaymentIntents, takes test cards,
/// refunds, and signs and delivers its own webhooks to a live node.
@Suite("Stripe payments")
struct StripeTests {
    static let secret = "whsec_currentSecret0001", oldSecret = "whsec_rotatedOutSecret01"

    @Test("a signed event pays the invoice once: duplicates, concurrent deliveries, bad signatures, replays and other clinics' events change nothing",
          arguments: TestBackend.allCases)
    func webhooks(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.clinic()
                let tenantID = try await node.services.storage.tenants.activeScope(slug: "acme").tenant.id
                try await node.test { client in
                    let admin = try await client.token("admin@acme.test"), clerk = try await client.token("clerk@acme.test")
                    #expect(try await client.send(.put, "/api/v1/billing/settings", token: admin,
                                                  json: ["stripe_webhook_secrets": [Self.secret, Self.oldSecret]]).status == .ok)
                    let patient = try await client.patient(try await client.token("desk@acme.test"))
                    let invoice = try await client.issuedInvoice(clerk, patient: patient, lines: [["description": "MRI", "unit_amount": 250_000]])
                    let id = try #require(invoice["id"] as? String)
                    let intent: [String: Any] = ["id": "pi_test001", "object": "payment_intent", "amount": 250_000, "amount_received": 250_000,
                                                 "currency": "usd", "status": "succeeded", "latest_charge": "ch_test001",
                                                 "metadata": ["ward_tenant": tenantID, "invoice_id": id]]
                    let now = Int(Date().timeIntervalSince1970)
                    let succeeded = try stripeEvent("evt_succeeded", type: "payment_intent.succeeded", object: intent)
                    let echo = try stripeEvent("evt_echo", type: "payment_intent.succeeded", object: intent)
                    var failedIntent = intent
                    failedIntent["status"] = "requires_payment_method"
                    let late = try stripeEvent("evt_late_failure", type: "payment_intent.payment_failed", object: failedIntent, created: now - 120)
                    let dispute = try stripeEvent("evt_dispute", type: "charge.dispute.created",
                                                  object: ["id": "dp_1", "object": "dispute", "payment_intent": "pi_test001", "amount": 250_000, "status": "needs_response"])
                    var foreign = intent
                    foreign["id"] = "pi_foreign"
                    foreign["metadata"] = ["ward_tenant": "01900000-0000-7000-8000-000000000000", "invoice_id": id]
                    let other = try stripeEvent("evt_foreign", type: "payment_intent.succeeded", object: foreign)
                    // Every header the test needs, made by the stripe library in one go.
                    let headers = try await StripeServer.sign([
                        .init(succeeded, timestamp: now, secrets: ["whsec_notTheClinics0001"]), .init(succeeded, timestamp: now - 600, secrets: [Self.secret]),
                        .init(succeeded, timestamp: now, secrets: [Self.secret]), .init(succeeded, timestamp: now, secrets: [Self.oldSecret]),
                        .init(echo, timestamp: now, secrets: [Self.secret]), .init(late, timestamp: now, secrets: [Self.secret]),
                        .init(dispute, timestamp: now, secrets: [Self.secret]), .init(other, timestamp: now, secrets: [Self.secret]),
                        .init(succeeded, timestamp: now, secrets: [Self.oldSecret, Self.secret]),
                    ])
                    let (forged, stale, tampered, signed, echoSignature, lateSignature, disputeSignature, otherSignature, rotation) =
                        (headers[0], headers[1], headers[2], headers[3], headers[4], headers[5], headers[6], headers[7], headers[8])
                    #expect(rotation.components(separatedBy: "v1=").count == 3)

                    // Refused: no signature, a wrong secret, an old timestamp (a replay).
                    #expect(try await client.deliver(succeeded, signature: nil).status == .badRequest)
                    #expect(try await client.deliver(succeeded, signature: forged).status == .badRequest)
                    #expect(try await client.deliver(succeeded, signature: stale).status == .badRequest)
                    #expect(try await client.deliver(succeeded + Data(" ".utf8), signature: tampered).status == .badRequest)
                    #expect(try await client.send(.get, "/api/v1/invoices/\(id)", token: clerk).json["status"] as? String == "issued")

                    // Signed under the secret being rotated out, still taken; once.
                    let first = try await client.deliver(succeeded, signature: signed)
                    #expect(first.status == .ok)
                    #expect(first.json["outcome"] as? String == "payment recorded")
                    let again = try await client.deliver(succeeded, signature: signed)
                    #expect(again.json["duplicate"] as? Bool == true)
                    // A header with a v1 per secret, as Stripe sends during a rotation: taken (and a duplicate).
                    #expect(try await client.deliver(succeeded, signature: rotation).json["duplicate"] as? Bool == true)
                    // Another event about the same PaymentIntent records no second payment.
                    #expect(try await client.deliver(echo, signature: echoSignature)
                        .json["outcome"] as? String == "already recorded")
                    var paid = try await client.send(.get, "/api/v1/invoices/\(id)", token: clerk).json
                    #expect(paid["status"] as? String == "paid")
                    #expect((paid["payments"] as? [[String: Any]])?.count == 1)
                    #expect((paid["payments"] as? [[String: Any]])?.first?["method"] as? String == "stripe")

                    // A late failure of an earlier attempt does not undo the payment.
                    #expect(try await client.deliver(late, signature: lateSignature).status == .ok)
                    #expect(try await client.send(.get, "/api/v1/invoices/\(id)", token: clerk).json["status"] as? String == "paid")

                    // Two deliveries of one event at once: applied by exactly one.
                    let outcomes = try await withThrowingTaskGroup(of: Bool?.self) { group in
                        for _ in 0..<2 { group.addTask { try await client.deliver(dispute, signature: disputeSignature).json["duplicate"] as? Bool } }
                        return try await group.reduce(into: [Bool?]()) { $0.append($1) }
                    }
                    #expect(outcomes.sorted { ($0 == true ? 1 : 0) < ($1 == true ? 1 : 0) } == [false, true])
                    paid = try await client.send(.get, "/api/v1/invoices/\(id)", token: clerk).json
                    #expect(paid["disputed"] as? Bool == true)

                    // An event naming another clinic is acknowledged and ignored.
                    let ignored = try await client.deliver(other, signature: otherSignature)
                    #expect((ignored.json["outcome"] as? String)?.hasPrefix("ignored") == true)
                    #expect((try await client.send(.get, "/api/v1/invoices/\(id)", token: clerk).json["payments"] as? [Any])?.count == 1)

                    // The trail has the payment and the dispute, by Stripe.
                    let trail = try await client.send(.get, "/api/v1/audit-events?patient_id=\(patient)&limit=100", token: admin).json
                    let events = trail["items"] as? [[String: Any]] ?? []
                    #expect(events.filter { $0["action"] as? String == "payment_succeeded" }.count == 1)
                    #expect(events.contains { $0["action"] as? String == "payment_disputed" && $0["actor_name"] as? String == "stripe" })
                    #expect(events.contains { $0["action"] as? String == "payment_failed" })
                }
            }
        }
    }

    @Test("through localstripe: a PaymentIntent for the balance, a card paid as Stripe.js would, its webhook marks the invoice paid; a credit note refunds the card")
    func endToEnd() async throws {
        let stripe = try await StripeServer.shared()
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: stripe.settings) { node in
                try await node.clinic()
                try await node.live { port, _ in
                    try await stripe.registerWebhook(id: "ward-\(port)", url: "http://127.0.0.1:\(port)/webhooks/stripe/acme", secret: Self.secret)
                    try await node.test { client in
                        let admin = try await client.token("admin@acme.test"), clerk = try await client.token("clerk@acme.test")
                        #expect(try await client.send(.put, "/api/v1/billing/settings", token: admin, json: [
                            "stripe_secret_key": "sk_test_wardtests", "stripe_webhook_secrets": [Self.secret],
                        ]).status == .ok)
                        let patient = try await client.patient(try await client.token("desk@acme.test"))
                        let invoice = try await client.issuedInvoice(clerk, patient: patient, lines: [["description": "Consultation", "unit_amount": 4_500]])
                        let id = try #require(invoice["id"] as? String)

                        let payment = try await client.send(.post, "/api/v1/invoices/\(id)/stripe-payment", token: clerk)
                        #expect(payment.status == .ok)
                        let intent = try #require(payment.json["payment_intent_id"] as? String)
                        #expect((payment.json["client_secret"] as? String)?.hasPrefix(intent) == true)
                        #expect(payment.json["amount"] as? Int == 4_500)
                        // Asked again for the same balance: the same PaymentIntent.
                        #expect(try await client.send(.post, "/api/v1/invoices/\(id)/stripe-payment", token: clerk).json["payment_intent_id"] as? String == intent)

                        // After a payment at the desk the balance changes: a new PaymentIntent for it, the old one cancelled.
                        #expect(try await client.send(.post, "/api/v1/invoices/\(id)/payments", token: clerk, json: ["method": "cash", "amount": 500]).status == .created)
                        let smaller = try await client.send(.post, "/api/v1/invoices/\(id)/stripe-payment", token: clerk).json
                        #expect(smaller["amount"] as? Int == 4_000)
                        #expect(smaller["payment_intent_id"] as? String != intent)
                        #expect(try await stripe.call("GET", "/v1/payment_intents/\(intent)")["status"] as? String == "canceled")
                        let confirmed = try await stripe.pay(try #require(smaller["payment_intent_id"] as? String))
                        #expect(confirmed["status"] as? String == "succeeded")
                        var status = ""
                        for _ in 0..<50 where status != "paid" {
                            try await Task.sleep(for: .milliseconds(200))
                            status = try await client.send(.get, "/api/v1/invoices/\(id)", token: clerk).json["status"] as? String ?? ""
                        }
                        #expect(status == "paid")

                        let credit = try await client.send(.post, "/api/v1/invoices/\(id)/credit-notes", token: clerk,
                                                           json: ["amount": 1_500, "reason": "Follow-up not needed", "refund_method": "stripe"])
                        #expect(credit.status == .created)
                        #expect(credit.json["refund_amount"] as? Int == 1_500)
                        let refunds = try await stripe.call("GET", "/v1/refunds?payment_intent=\(try #require(smaller["payment_intent_id"] as? String))")
                        let made = try #require((refunds["data"] as? [[String: Any]])?.first)
                        #expect(made["amount"] as? Int == 1_500)
                        let settled = try await client.send(.get, "/api/v1/invoices/\(id)", token: clerk).json
                        let refund = (settled["payments"] as? [[String: Any]])?.first { $0["kind"] as? String == "refund" }
                        #expect(refund?["stripe_id"] as? String == made["id"] as? String)
                        #expect(settled["paid"] as? Int == 3_000)  // 500 cash + 4 000 card − 1 500 refunded

                        // A key Stripe does not accept is the clinic's to fix: 409, nothing recorded.
                        #expect(try await client.send(.put, "/api/v1/billing/settings", token: admin, json: ["stripe_secret_key": "rk_test_notAccepted"]).status == .ok)
                        let refused = try await client.issuedInvoice(clerk, patient: patient, lines: [["description": "Dressing", "unit_amount": 900]])
                        let rejected = try await client.send(.post, "/api/v1/invoices/\(try #require(refused["id"] as? String))/stripe-payment", token: clerk)
                        #expect(rejected.status == .conflict)
                        #expect(rejected.json["title"] as? String == "Stripe refused the request")
                        #expect(try await client.send(.put, "/api/v1/billing/settings", token: admin, json: ["stripe_secret_key": "sk_test_wardtests"]).status == .ok)

                        // A declined card leaves the invoice owed, and the failure in the trail.
                        let second = try await client.issuedInvoice(clerk, patient: patient, lines: [["description": "X-ray", "unit_amount": 9_900]])
                        let secondID = try #require(second["id"] as? String)
                        let declined = try #require(try await client.send(.post, "/api/v1/invoices/\(secondID)/stripe-payment", token: clerk)
                            .json["payment_intent_id"] as? String)
                        _ = try await stripe.pay(declined, card: "4000000000000341")
                        var failures = 0
                        for _ in 0..<50 where failures == 0 {
                            try await Task.sleep(for: .milliseconds(200))
                            let trail = try await client.send(.get, "/api/v1/audit-events?action=payment_failed&limit=10", token: admin).json
                            failures = (trail["items"] as? [Any])?.count ?? 0
                        }
                        #expect(failures == 1)
                        #expect(try await client.send(.get, "/api/v1/invoices/\(secondID)", token: clerk).json["status"] as? String == "issued")
                    }
                }
            }
        }
    }
}
