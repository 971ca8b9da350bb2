package import Foundation
import SQLKit
package import WardAudit
import WardCore
package import WardHTTP
package import OpenAPIKit
package import WardStorage

/// An invoice with money still owed, as the outstanding and ageing reports list it.
package struct OutstandingInvoice: Codable, Sendable, APIResponseBody {
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["due_date": .date] }
    package var id: String
    package var number: String
    package var patientID: String
    package var patientName: String
    package var dueDate: String
    package var total: Int64
    package var balance: Int64
    package var daysOverdue: Int
    enum CodingKeys: String, CodingKey {
        case id, number, total, balance
        case patientID = "patient_id", patientName = "patient_name", dueDate = "due_date", daysOverdue = "days_overdue"
    }
}

package struct OutstandingReport: Codable, Sendable, APIResponseBody {
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["as_of": .date] }
    package var asOf: String
    package var currency: String
    package var total: Int64
    package var items: [OutstandingInvoice]
    enum CodingKeys: String, CodingKey { case currency, total, items, asOf = "as_of" }
}

/// Money received (payments less refunds) per local day and method.
package struct TakingsRow: Codable, Sendable, APIResponseBody {
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["day": .date] }
    package var day: String
    package var method: String
    package var received: Int64
    package var refunded: Int64
    package var net: Int64
    package var count: Int
}

package struct TakingsReport: Codable, Sendable, APIResponseBody {
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["from": .date, "to": .date] }
    package var from: String
    package var to: String
    package var currency: String
    package var total: Int64
    package var items: [TakingsRow]
}

/// Balances by how long past their due date: current, 1–30, 31–60, 61–90 and over 90 days.
package struct AgeingReport: Codable, Sendable, APIResponseBody {
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["as_of": .date] }
    package var asOf: String
    package var currency: String
    package var current: Int64
    package var days1To30: Int64
    package var days31To60: Int64
    package var days61To90: Int64
    package var over90: Int64
    package var total: Int64
    enum CodingKeys: String, CodingKey {
        case currency, current, total
        case asOf = "as_of", days1To30 = "days_1_30", days31To60 = "days_31_60", days61To90 = "days_61_90", over90 = "over_90"
    }
}

/// The billing reports: what is owed (and for how long) and what came in. Amounts are in the
/// clinic's currency; each report is audited, for the outstanding list names patients.
package struct BillingReports: Sendable {
    let billing: BillingService

    package init(billing: BillingService) { self.billing = billing }

    package func outstanding(asOf day: String?, in scope: TenantScope, by actor: AuditActor) async throws -> OutstandingReport {
        let today = try Self.day(day, in: scope)
        let invoices = try scope.table("invoices"), patients = try scope.table("patients")
        let rows = try await scope.read { database in
            try await database.select().columns(Invoice.columns.map { SQLColumn($0, table: "i") as any SQLExpression })
                .column(SQLColumn("given_name", table: "p")).column(SQLColumn("family_name", table: "p"))
                .from(SQLAlias(invoices, as: SQLIdentifier("i")))
                .join(SQLAlias(patients, as: SQLIdentifier("p")), on: SQLColumn("patient_id", table: "i"), .equal, SQLColumn("id", table: "p"))
                .where(SQLColumn("status", table: "i"), .in, SQLBind.group(["issued", "partially_paid"]))
                .orderBy(SQLColumn("due_date", table: "i")).limit(10_000).all()
        }
        let items = try rows.map { row -> OutstandingInvoice in
            let invoice = try Invoice.head(row)
            let name = "\(try row.decode(column: "given_name", as: String.self)) \(try row.decode(column: "family_name", as: String.self))"
            return OutstandingInvoice(id: invoice.id, number: invoice.number ?? "", patientID: invoice.patientID, patientName: name,
                                      dueDate: invoice.dueDate ?? today, total: invoice.total, balance: invoice.balance,
                                      daysOverdue: max(0, Self.days(from: invoice.dueDate ?? today, to: today)))
        }.filter { $0.balance > 0 }
        try await billing.audit.recordRead(actor.record("read", resourceType: "billing_report", details: ["report": "outstanding", "returned": String(items.count)]),
                                           in: scope)
        return OutstandingReport(asOf: today, currency: try await billing.settings.current(in: scope).currency,
                                 total: items.reduce(0) { $0 + $1.balance }, items: items)
    }

    package func ageing(asOf day: String?, in scope: TenantScope, by actor: AuditActor) async throws -> AgeingReport {
        let list = try await outstanding(asOf: day, in: scope, by: actor)
        var report = AgeingReport(asOf: list.asOf, currency: list.currency, current: 0, days1To30: 0, days31To60: 0, days61To90: 0, over90: 0, total: list.total)
        for item in list.items {
            switch item.daysOverdue {
            case ...0: report.current += item.balance
            case 1...30: report.days1To30 += item.balance
            case 31...60: report.days31To60 += item.balance
            case 61...90: report.days61To90 += item.balance
            default: report.over90 += item.balance
            }
        }
        return report
    }

    /// Takings from `from` to `to` (local days, inclusive, at most 366 of them).
    package func takings(from: String?, to: String?, in scope: TenantScope, by actor: AuditActor) async throws -> TakingsReport {
        let last = try Self.day(to, in: scope)
        let first = try from.map { try Self.day($0, in: scope) } ?? last
        let span = Self.days(from: first, to: last)
        guard span >= 0, span <= 366 else { throw BillingError.invalid([.init(field: "from", message: "must be on or before to, at most 366 days before it")]) }
        let zone = TimeZone(identifier: scope.tenant.timeZone) ?? .gmt
        let start = Self.midnight(first, zone: zone), end = Self.midnight(last, zone: zone).addingTimeInterval(86_400 + 3_600)
        let payments = try scope.table("payments")
        let rows = try await scope.read { database in
            try await database.select().columns("kind", "method", "amount", "received_at").from(payments)
                .where("received_at", .greaterThanOrEqual, Timestamp.text(start.addingTimeInterval(-3_600)))
                .where("received_at", .lessThan, Timestamp.text(end)).limit(1_000_000).all()
        }
        var grouped: [String: TakingsRow] = [:]
        for row in rows {
            guard let received = Timestamp.date(try row.decode(column: "received_at", as: String.self)) else { continue }
            let day = Timestamp.format(received, "yyyy-MM-dd", in: zone)
            guard day >= first, day <= last else { continue }
            let method = try row.decode(column: "method", as: String.self), amount = try row.decode(column: "amount", as: Int64.self)
            var entry = grouped["\(day) \(method)"] ?? TakingsRow(day: day, method: method, received: 0, refunded: 0, net: 0, count: 0)
            if try row.decode(column: "kind", as: String.self) == "refund" { entry.refunded += amount } else { entry.received += amount; entry.count += 1 }
            entry.net = entry.received - entry.refunded
            grouped["\(day) \(method)"] = entry
        }
        let items = grouped.values.sorted { ($0.day, $0.method) < ($1.day, $1.method) }
        try await billing.audit.recordRead(actor.record("read", resourceType: "billing_report", details: ["report": "takings", "from": first, "to": last]), in: scope)
        return TakingsReport(from: first, to: last, currency: try await billing.settings.current(in: scope).currency,
                             total: items.reduce(0) { $0 + $1.net }, items: items)
    }

    // MARK: CSV

    static func csv(_ rows: [[String]]) -> String {
        rows.map { row in
            row.map { field in
                // A leading =, +, - or @ would be a formula to a spreadsheet: quoted with a tick.
                let guarded = field.first.map { "=+-@\t\r".contains($0) } == true && Int64(field) == nil ? "'" + field : field
                return guarded.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                    ? "\"" + guarded.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : guarded
            }.joined(separator: ",")
        }.joined(separator: "\r\n") + "\r\n"
    }

    static func csv(_ report: OutstandingReport) -> String {
        let currency = Currency(report.currency) ?? Currency("USD")!
        return csv([["number", "patient", "due_date", "days_overdue", "total", "balance", "currency"]] + report.items.map {
            [$0.number, $0.patientName, $0.dueDate, String($0.daysOverdue), currency.plain($0.total), currency.plain($0.balance), report.currency]
        })
    }

    static func csv(_ report: TakingsReport) -> String {
        let currency = Currency(report.currency) ?? Currency("USD")!
        return csv([["day", "method", "payments", "received", "refunded", "net", "currency"]] + report.items.map {
            [$0.day, $0.method, String($0.count), currency.plain($0.received), currency.plain($0.refunded), currency.plain($0.net), report.currency]
        })
    }

    static func csv(_ report: AgeingReport) -> String {
        let currency = Currency(report.currency) ?? Currency("USD")!
        return csv([["as_of", "current", "days_1_30", "days_31_60", "days_61_90", "over_90", "total", "currency"],
                    [report.asOf] + [report.current, report.days1To30, report.days31To60, report.days61To90, report.over90, report.total].map(currency.plain)
                    + [report.currency]])
    }

    // MARK: Days

    /// `text` if it is a date, else today in the clinic's time zone.
    static func day(_ text: String?, in scope: TenantScope) throws -> String {
        guard let text else { return Timestamp.format(Date(), "yyyy-MM-dd", in: TimeZone(identifier: scope.tenant.timeZone) ?? .gmt) }
        guard Timestamp.date(text + "T00:00:00Z") != nil, text.count == 10 else {
            throw BillingError.invalid([.init(field: "date", message: "must be a date as YYYY-MM-DD")])
        }
        return text
    }

    static func days(from first: String, to last: String) -> Int {
        guard let start = Timestamp.date(first + "T00:00:00Z"), let end = Timestamp.date(last + "T00:00:00Z") else { return 0 }
        return Int((end.timeIntervalSince(start) / 86_400).rounded())
    }

    static func midnight(_ day: String, zone: TimeZone) -> Date {
        let utc = Timestamp.date(day + "T00:00:00Z") ?? Date()
        return utc.addingTimeInterval(-Double(zone.secondsFromGMT(for: utc)))
    }
}
