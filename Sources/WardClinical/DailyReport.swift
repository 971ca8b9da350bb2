package import Foundation
package import SQLKit
import WardCore
package import WardHTTP
package import OpenAPIKit
package import WardStorage

/// A clinic's day in numbers, counted after its local midnight by the daily report job. The
/// PDF and its email arrive with the documents module; the counts are kept from now on.
package struct DailyReport: Codable, Sendable, Equatable, APIResponseBody {
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["day": .date, "generated_at": .dateTime] }

    package var day: String
    package var timeZone: String
    package var appointmentsTotal: Int
    package var appointmentsFulfilled: Int
    package var appointmentsCancelled: Int
    package var appointmentsNoShow: Int
    package var patientsRegistered: Int
    package var prescriptionsIssued: Int
    package var generatedAt: String

    enum CodingKeys: String, CodingKey {
        case day
        case timeZone = "time_zone"
        case appointmentsTotal = "appointments_total"
        case appointmentsFulfilled = "appointments_fulfilled"
        case appointmentsCancelled = "appointments_cancelled"
        case appointmentsNoShow = "appointments_noshow"
        case patientsRegistered = "patients_registered"
        case prescriptionsIssued = "prescriptions_issued"
        case generatedAt = "generated_at"
    }

    /// The local day (`yyyy-MM-dd`) that ended at `midnight` in `zone`.
    package static func day(endingAt midnight: Date, in zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month, .day], from: midnight.addingTimeInterval(-1))
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }

    /// The instants `day` (`yyyy-MM-dd`) starts and ends in `zone`. Taken from the calendar's
    /// interval around the day's noon: a day whose midnight a daylight-saving jump skips starts
    /// at 01:00 and lasts 23 hours, and "start plus one day" would end it an hour into the next.
    package static func window(of day: String, in zone: TimeZone) -> (start: Date, end: Date)? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let numbers = day.split(separator: "-").compactMap { Int($0) }
        guard numbers.count == 3,
              let noon = calendar.date(from: DateComponents(year: numbers[0], month: numbers[1], day: numbers[2], hour: 12)),
              calendar.component(.day, from: noon) == numbers[2],
              let interval = calendar.dateInterval(of: .day, for: noon) else { return nil }
        return (interval.start, interval.end)
    }

    /// Counts `day` (local to the tenant) and stores the report, replacing an earlier count of
    /// the same day, so running the job twice leaves one report.
    @discardableResult
    package static func generate(day: String, in scope: TenantScope) async throws -> DailyReport {
        let reports = try scope.table("daily_reports")
        return try await scope.transaction { database in
            let report = try await count(day: day, in: scope, database: database)
            try await database.delete(from: reports).where("day", .equal, day).run()
            try await database.insert(into: reports).model(report).run()
            return report
        }
    }

    /// Counts `day` as it stands, storing nothing: the web app shows a day not yet over this way.
    package static func count(day: String, in scope: TenantScope) async throws -> DailyReport {
        try await scope.read { database in try await count(day: day, in: scope, database: database) }
    }

    private static func count(day: String, in scope: TenantScope, database: any SQLDatabase) async throws -> DailyReport {
        let zone = TimeZone(identifier: scope.tenant.timeZone) ?? .gmt
        guard let (start, end) = window(of: day, in: zone) else {
            throw ClinicalError.invalid([.init(field: "day", message: "must be a date as yyyy-MM-dd")])
        }
        let from = Timestamp.text(start), to = Timestamp.text(end)
        let appointments = try scope.table("appointments"), patients = try scope.table("patients")
        let prescriptions = try scope.table("prescriptions")
        let visits = try await database.raw("""
            SELECT COUNT(*) AS total,
                COALESCE(SUM(CASE WHEN status = 'fulfilled' THEN 1 ELSE 0 END), 0) AS fulfilled,
                COALESCE(SUM(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END), 0) AS cancelled,
                COALESCE(SUM(CASE WHEN status = 'noshow' THEN 1 ELSE 0 END), 0) AS noshow
            FROM \(appointments) WHERE start_at >= \(bind: from) AND start_at < \(bind: to)
            """).first()
        let registered = try await database.raw("""
            SELECT COUNT(*) AS n FROM \(patients) WHERE created_at >= \(bind: from) AND created_at < \(bind: to)
            """).first()
        let issued = try await database.raw("""
            SELECT COUNT(*) AS n FROM \(prescriptions) WHERE issued_at >= \(bind: from) AND issued_at < \(bind: to)
            """).first()
        let report = DailyReport(
            day: day, timeZone: zone.identifier,
            appointmentsTotal: try visits?.decode(column: "total", as: Int.self) ?? 0,
            appointmentsFulfilled: try visits?.decode(column: "fulfilled", as: Int.self) ?? 0,
            appointmentsCancelled: try visits?.decode(column: "cancelled", as: Int.self) ?? 0,
            appointmentsNoShow: try visits?.decode(column: "noshow", as: Int.self) ?? 0,
            patientsRegistered: try registered?.decode(column: "n", as: Int.self) ?? 0,
            prescriptionsIssued: try issued?.decode(column: "n", as: Int.self) ?? 0,
            generatedAt: Timestamp.now()
        )
        return report
    }

    /// The stored report of `day`, or nil.
    package static func find(day: String, in scope: TenantScope) async throws -> DailyReport? {
        let reports = try scope.table("daily_reports")
        return try await scope.read { database in
            try await database.select().columns(CodingKeys.allCases.map(\.rawValue)).from(reports).where("day", .equal, day).first(decoding: DailyReport.self)
        }
    }
}

extension DailyReport.CodingKeys: CaseIterable {}
