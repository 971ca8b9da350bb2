import Foundation
import HTTPTypes
import Testing
import WardServer
import WardTestSupport

/// Invoices through the API on both databases: the price list, drafts, issuing, payments,
/// credit notes, reports and the PDF; who may see amounts.
@Suite("Invoices")
struct InvoiceTests {
    @Test("an invoice is drafted, issued with its number, paid in part and in full, credited with a refund; figures add up; only billing roles see it",
          arguments: TestBackend.allCases)
    func lifecycle(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.clinic()
                try await node.clinic("beta")
                try await node.test { client in
                    let admin = try await client.token("admin@acme.test"), clerk = try await client.token("clerk@acme.test")
                    let desk = try await client.token("desk@acme.test"), nurse = try await client.token("nurse@acme.test")

                    // Settings: the keys are taken, never shown again; the clerk cannot set them.
                    let settings = try await client.send(.put, "/api/v1/billing/settings", token: admin, json: [
                        "currency": "INR", "invoice_prefix": "NC-", "payment_terms_days": 15,
                        "stripe_secret_key": "sk_test_4eC39HqLyjWDarjtT1zdp7dc", "stripe_webhook_secrets": ["whsec_abcdefgh12345678"],
                    ])
                    #expect(settings.status == .ok)
                    #expect(settings.json["stripe_configured"] as? Bool == true)
                    #expect(!settings.text.contains("sk_test_4eC39") && !settings.text.contains("whsec_"))
                    #expect(try await client.send(.put, "/api/v1/billing/settings", token: clerk, json: ["currency": "USD"]).status == .forbidden)
                    #expect(try await client.send(.put, "/api/v1/billing/settings", token: admin, json: ["currency": "XYZ"]).status == .unprocessableContent)

                    let consult = try await client.send(.post, "/api/v1/billing/prices", token: clerk, json: [
                        "code": "CONSULT", "name": "Consultation", "kind": "consultation", "unit_amount": 50_000, "tax_rate_bp": 1_800,
                    ])
                    #expect(consult.status == .created)
                    let priceID = try #require(consult.json["id"] as? String)
                    #expect(try await client.send(.post, "/api/v1/billing/prices", token: clerk, json: [
                        "code": "consult", "name": "Again", "kind": "service", "unit_amount": 1,
                    ]).status == .conflict)

                    let patient = try await client.patient(desk)
                    let draft = try await client.send(.post, "/api/v1/invoices", token: clerk, json: [
                        "patient_id": patient, "note": "Thank you",
                        "lines": [["price_item_id": priceID],
                                  ["description": "Dressing", "unit_amount": 12_345, "quantity": 2, "discount_bp": 1_000, "tax_rate_bp": 500]],
                    ])
                    #expect(draft.status == .created)
                    let id = try #require(draft.json["id"] as? String)
                    // 50 000 + 9 000 tax; 24 690 − 2 469 discount = 22 221 + 1 111 tax (1 111.05).
                    #expect(draft.json["currency"] as? String == "INR")
                    #expect(draft.json["subtotal"] as? Int == 74_690)
                    #expect(draft.json["discount_total"] as? Int == 2_469)
                    #expect(draft.json["tax_total"] as? Int == 10_111)
                    #expect(draft.json["total"] as? Int == 82_332)
                    #expect(draft.json["status"] as? String == "draft")
                    #expect(draft.json["number"] == nil || draft.json["number"] is NSNull)

                    // Bad lines change nothing.
                    let bad = try await client.send(.put, "/api/v1/invoices/\(id)", token: clerk, json: ["lines": [["description": "No price"]]],
                                                    headers: [.ifMatch: "\"1\""])
                    #expect(bad.status == .unprocessableContent)
                    #expect(try await client.send(.get, "/api/v1/invoices/\(id)", token: clerk).json["total"] as? Int == 82_332)

                    // Amounts are for billing roles: the nurse sees none; the desk reads but does not bill.
                    #expect(try await client.send(.get, "/api/v1/invoices/\(id)", token: nurse).status == .forbidden)
                    #expect(try await client.send(.get, "/api/v1/invoices?patient_id=\(patient)", token: nurse).status == .forbidden)
                    #expect(try await client.send(.get, "/api/v1/billing/reports/outstanding", token: nurse).status == .forbidden)
                    #expect(try await client.send(.get, "/api/v1/invoices/\(id)", token: desk).status == .ok)
                    #expect(try await client.send(.post, "/api/v1/invoices/\(id)/issue", token: desk).status == .forbidden)

                    let issued = try await client.send(.post, "/api/v1/invoices/\(id)/issue", token: clerk)
                    #expect(issued.status == .ok)
                    let year = Calendar(identifier: .gregorian).component(.year, from: Date())
                    #expect(issued.json["number"] as? String == "NC-\(year)-000001")
                    #expect(issued.json["status"] as? String == "issued")
                    #expect((issued.json["due_date"] as? String)?.count == 10)
                    // Issued is final: corrections go through credit notes.
                    #expect(try await client.send(.put, "/api/v1/invoices/\(id)", token: clerk, json: ["lines": [["price_item_id": priceID]]],
                                                  headers: [.ifMatch: "\"2\""]).status == .conflict)
                    #expect(try await client.send(.post, "/api/v1/invoices/\(id)/issue", token: clerk).status == .conflict)

                    let part = try await client.send(.post, "/api/v1/invoices/\(id)/payments", token: clerk, json: ["method": "cash", "amount": 30_000])
                    #expect(part.status == .created)
                    #expect((part.json["receipt_number"] as? String)?.hasPrefix("R\(year)-") == true)
                    #expect(try await client.send(.get, "/api/v1/invoices/\(id)", token: clerk).json["status"] as? String == "partially_paid")
                    let over = try await client.send(.post, "/api/v1/invoices/\(id)/payments", token: clerk, json: ["method": "cash", "amount": 60_000])
                    #expect(over.status == .unprocessableContent)
                    let rest = try await client.send(.post, "/api/v1/invoices/\(id)/payments", token: clerk,
                                                     json: ["method": "transfer", "amount": 52_332, "reference": "NEFT 99812"])
                    #expect(rest.status == .created)
                    var paid = try await client.send(.get, "/api/v1/invoices/\(id)", token: clerk).json
                    #expect(paid["status"] as? String == "paid")
                    #expect(paid["balance"] as? Int == 0)
                    #expect(try await client.send(.post, "/api/v1/invoices/\(id)/void", token: clerk, json: ["reason": "Mistake"]).status == .conflict)

                    // A credit on a paid invoice gives money back: the method must be said.
                    #expect(try await client.send(.post, "/api/v1/invoices/\(id)/credit-notes", token: clerk,
                                                  json: ["amount": 10_000, "reason": "Dressing not used"]).status == .unprocessableContent)
                    let credit = try await client.send(.post, "/api/v1/invoices/\(id)/credit-notes", token: clerk,
                                                       json: ["amount": 10_000, "reason": "Dressing not used", "refund_method": "cash"])
                    #expect(credit.status == .created)
                    #expect(credit.json["refund_amount"] as? Int == 10_000)
                    #expect((credit.json["number"] as? String)?.hasPrefix("NC-CN\(year)-000001") == true)
                    paid = try await client.send(.get, "/api/v1/invoices/\(id)", token: clerk).json
                    #expect(paid["credited"] as? Int == 10_000)
                    #expect(paid["paid"] as? Int == 72_332)
                    #expect(paid["balance"] as? Int == 0)
                    #expect((paid["payments"] as? [Any])?.count == 3)

                    // The PDF reads back with its number and figures.
                    let pdf = try await client.send(.get, "/api/v1/invoices/\(id)/pdf", token: desk)
                    #expect(pdf.status == .ok)
                    let text = try await ExternalTool.pdfText(Data(buffer: pdf.body))
                    #expect(text.contains("NC-\(year)-000001"))
                    #expect(text.contains("823.32 INR"))
                    #expect(text.contains("Balance due"))

                    // A second invoice stays owed: the reports list it, as JSON and CSV.
                    let owed = try await client.issuedInvoice(clerk, patient: patient, lines: [["price_item_id": priceID, "quantity": 2]])
                    #expect(owed["number"] as? String == "NC-\(year)-000002")
                    let outstanding = try await client.send(.get, "/api/v1/billing/reports/outstanding", token: clerk).json
                    #expect(outstanding["total"] as? Int == 118_000)
                    #expect((outstanding["items"] as? [[String: Any]])?.first?["patient_name"] as? String == "Ada Okafor")
                    let csv = try await client.send(.get, "/api/v1/billing/reports/outstanding?format=csv", token: clerk)
                    #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
                    #expect(csv.text.contains("NC-\(year)-000002,Ada Okafor,"))
                    #expect(csv.text.contains(",1180.00,1180.00,INR"))
                    let later = Calendar(identifier: .gregorian).date(byAdding: .day, value: 50, to: Date())!
                    let asOf = ISO8601DateFormatter.string(from: later, timeZone: .gmt, formatOptions: [.withFullDate])
                    let ageing = try await client.send(.get, "/api/v1/billing/reports/ageing?as_of=\(asOf)", token: clerk).json
                    #expect(ageing["days_31_60"] as? Int == 118_000)
                    #expect(ageing["current"] as? Int == 0)
                    let takings = try await client.send(.get, "/api/v1/billing/reports/takings", token: clerk).json
                    let rows = try #require(takings["items"] as? [[String: Any]])
                    #expect(rows.first { $0["method"] as? String == "cash" }?["net"] as? Int == 20_000)
                    #expect(rows.first { $0["method"] as? String == "transfer" }?["received"] as? Int == 52_332)
                    #expect(takings["total"] as? Int == 72_332)

                    // Another clinic's staff find nothing behind this clinic's invoice id, and change nothing.
                    let theirs = try await client.token("clerk@beta.test", tenant: "beta")
                    #expect(try await client.send(.get, "/api/v1/invoices/\(id)", token: theirs).status == .notFound)
                    #expect(try await client.send(.post, "/api/v1/invoices/\(id)/payments", token: theirs, json: ["method": "cash", "amount": 1]).status == .notFound)
                    #expect(try await client.send(.get, "/api/v1/invoices/\(id)", token: clerk).json["paid"] as? Int == 72_332)

                    // Voiding an untouched invoice keeps its number used.
                    let voided = try await client.send(.post, "/api/v1/invoices/\(owed["id"] as! String)/void", token: clerk, json: ["reason": "Duplicate"])
                    #expect(voided.json["status"] as? String == "void")
                    #expect(voided.json["number"] as? String == "NC-\(year)-000002")

                    // Every payment is in the trail, attributed to the patient.
                    let trail = try await client.send(.get, "/api/v1/audit-events?patient_id=\(patient)&limit=100", token: admin).json
                    let actions = (trail["items"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
                    #expect(actions.filter { $0 == "payment_recorded" }.count == 2)
                    #expect(actions.contains("payment_refunded") && actions.contains("issue") && actions.contains("credit_note"))
                }
            }
        }
    }

    @Test("concurrent issues take consecutive numbers, none skipped or repeated", arguments: TestBackend.allCases)
    func numbering(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.clinic()
                try await node.test { client in
                    let clerk = try await client.token("clerk@acme.test"), desk = try await client.token("desk@acme.test")
                    let patient = try await client.patient(desk)
                    var drafts: [String] = []
                    for index in 1...12 {
                        let draft = try await client.send(.post, "/api/v1/invoices", token: clerk,
                                                          json: ["patient_id": patient, "lines": [["description": "Visit \(index)", "unit_amount": 1_000 * index]]])
                        drafts.append(try #require(draft.json["id"] as? String))
                    }
                    let numbers = try await withThrowingTaskGroup(of: String?.self) { group in
                        for id in drafts { group.addTask { try await client.send(.post, "/api/v1/invoices/\(id)/issue", token: clerk).json["number"] as? String } }
                        return try await group.reduce(into: [String]()) { if let number = $1 { $0.append(number) } }
                    }
                    let year = Calendar(identifier: .gregorian).component(.year, from: Date())
                    #expect(numbers.sorted() == (1...12).map { "INV-\(year)-\(String(format: "%06d", $0))" })
                }
            }
        }
    }
}
