import Foundation
import Hummingbird
import WardAudit
import WardClinical
import WardCore
import WardHTTP

/// A clinic's day in numbers: the report the midnight job stored, or for a day not yet
/// reported (today) the counts as they stand.
struct ReportsPage: Sendable {
    let app: WebApp

    struct Model {
        let shell: Shell
        var fields: [Field]
        let dayLabel: String
        let timeZone: String
        let day: String
        let origin: String
        let rows: [Row]
    }
    struct Row { let label: String; let count: Int; let max: Int }

    func register(_ signedIn: RouterGroup<WardRequestContext>) {
        signedIn.get("reports") { request, context in try await show(request, context) }
        signedIn.get("reports/pdf") { request, context in try await pdf(request, context) }
    }

    /// The day's report as the PDF administrators are mailed.
    func pdf(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("reports:read", request, context)
        let scope = try context.requireTenant(), zone = WebApp.timeZone(scope)
        guard let window = DailyReport.window(of: request.uri.queryParameters.get("day") ?? "", in: zone) else { throw PageError.notFound }
        let day = CalendarPage.dayKey(window.start, in: zone)
        let stored = try await DailyReport.find(day: day, in: scope)
        let report = if let stored { stored } else { try await DailyReport.count(day: day, in: scope) }
        try await app.audit.record(AuditActor(request, context).record("read", resourceType: "daily_report", resourceID: day, details: ["format": "pdf"]), in: scope)
        return PDFResponse.make(try await app.documents.dailyReportPDF(report, in: scope), filename: "daily-report-\(day).pdf")
    }

    func show(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("reports:read", request, context)
        let scope = try context.requireTenant(), zone = WebApp.timeZone(scope)
        let today = CalendarPage.dayKey(app.clock.now, in: zone)
        guard let window = DailyReport.window(of: request.uri.queryParameters.get("day") ?? today, in: zone) else {
            throw ClinicalError.invalid([.init(field: "day", message: "must be a date as YYYY-MM-DD")])
        }
        let day = CalendarPage.dayKey(window.start, in: zone)
        let stored = try await DailyReport.find(day: day, in: scope)
        let report = if let stored { stored } else { try await DailyReport.count(day: day, in: scope) }
        try await app.audit.record(AuditActor(request, context).record("read", resourceType: "daily_report", resourceID: day), in: scope)
        let counts = [
            ("Appointments", report.appointmentsTotal), ("Seen", report.appointmentsFulfilled), ("Cancelled", report.appointmentsCancelled),
            ("No-shows", report.appointmentsNoShow), ("New patients", report.patientsRegistered), ("Prescriptions", report.prescriptionsIssued),
        ]
        let most = max(1, counts.map(\.1).max() ?? 1)
        let origin = stored != nil ? "As counted after the day ended." : (day >= today ? "So far today: the day is not over." : "Counted now: no report was stored for this day.")
        let model = Model(shell: try app.shell(context, current: "/app/reports"), fields: [Field("day", "Day", type: "date", value: day)],
                          dayLabel: TodayPage.day.string(from: window.start, in: zone), timeZone: zone.identifier, day: day, origin: origin,
                          rows: counts.map { Row(label: $0.0, count: $0.1, max: most) })
        return app.renderer.page("reports", model)
    }
}
