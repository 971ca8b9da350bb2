import Foundation
import Hummingbird
import HummingbirdCore
import WardAudit
import WardClinical
import WardCore
import WardHTTP

/// A practitioner's calendar by day or week, where the desk moves appointments along
/// (arrived, fulfilled, cancelled, no-show).
struct CalendarPage: Sendable {
    let app: WebApp

    struct Model {
        let shell: Shell
        var fields: [Field]
        let unit: String
        let previous, next: String
        let days: [Day]
        let canWrite: Bool
        var problem: String?
        var problemDetail: String?
    }
    struct Day { let key, label: String; let appointments: [Row] }
    struct Row { let id, time, patientID, patientName, status, reason: String; let version: Int; let changes: [Change]; let back: String }
    struct Change { let to, label: String }

    static let labels = ["arrived": "Arrived", "fulfilled": "Seen", "cancelled": "Cancel", "noshow": "No-show", "booked": "Book"]

    func register(_ signedIn: RouterGroup<WardRequestContext>) {
        signedIn.get("calendar") { request, context in try await show(request, context, query: Self.query(request.uri.description)) }
        signedIn.post("appointments/{id}/status") { request, context in try await changeStatus(request, context) }
    }

    /// The calendar `query` asks for (its practitioner, day and view).
    func show(_ request: Request, _ context: WardRequestContext, query: [String: String], status: HTTPResponse.Status = .ok,
              problem: String? = nil, detail: String? = nil) async throws -> Response {
        try await app.require("appointments:read", request, context)
        let principal = try context.requirePrincipal(), scope = try context.requireTenant(), zone = WebApp.timeZone(scope)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let practitioners = try await app.scheduling.practitioners(after: nil, limit: 100, in: scope).filter { $0.active != 0 }
        let chosen = query["practitioner_id"].flatMap { id in practitioners.first { $0.id == id } }
            ?? WebApp.practitioner(of: principal, among: practitioners) ?? practitioners.first
        let week = query["view"] == "week"
        let day = query["day"].flatMap { DailyReport.window(of: $0, in: zone)?.start } ?? calendar.startOfDay(for: app.clock.now)
        let start = week ? calendar.dateInterval(of: .weekOfYear, for: day)?.start ?? day : day
        let count = week ? 7 : 1
        let end = calendar.date(byAdding: .day, value: count, to: start)!

        var rows: [Appointment] = []
        if let chosen {
            rows = try await app.appointments(practitionerID: chosen.id, patientID: nil, from: start, to: end, in: scope, by: AuditActor(request, context))
        }
        let names = try await app.patientNames(Set(rows.map(\.patientID)), principal, in: scope, by: AuditActor(request, context))
        let here = "/app/calendar?" + ["practitioner_id", "day", "view"].compactMap { name in query[name].map { "\(name)=\($0)" } }.joined(separator: "&")
        let days = (0..<count).map { offset -> Day in
            let date = calendar.date(byAdding: .day, value: offset, to: start)!
            let key = Self.dayKey(date, in: zone)
            let appointments = rows.filter { Timestamp.date($0.start).map { Self.dayKey($0, in: zone) } == key }.sorted { $0.start < $1.start }
                .map { appointment in
                    Row(id: appointment.id, time: TodayPage.span(appointment, in: zone), patientID: appointment.patientID,
                        patientName: names[appointment.patientID] ?? "a patient", status: appointment.status, reason: appointment.reason ?? "",
                        version: appointment.version,
                        changes: Appointment.statuses.filter { Appointment.transitions[appointment.status]?.contains($0) == true }
                            .map { Change(to: $0, label: Self.labels[$0] ?? $0) },
                        back: here)
                }
            return Day(key: key, label: TodayPage.day.string(from: date, in: zone), appointments: appointments)
        }
        let dayText = Self.dayKey(day, in: zone)
        var fields = [
            Field.select("practitioner_id", "Practitioner", choices: practitioners.map { ($0.id, $0.name) }, value: chosen?.id),
            Field("day", "Day", type: "date", value: dayText),
            Field.select("view", "Show", choices: [("day", "One day"), ("week", "The week")], value: week ? "week" : "day"),
        ]
        if practitioners.isEmpty { fields[0].error = "No practitioner is registered yet." }
        func link(_ offset: Int) -> String {
            let target = calendar.date(byAdding: .day, value: offset * count, to: day)!
            return "practitioner_id=\(chosen?.id ?? "")&day=\(Self.dayKey(target, in: zone))&view=\(week ? "week" : "day")"
        }
        let model = Model(shell: try app.shell(context, current: "/app/calendar"), fields: fields, unit: week ? "week" : "day",
                          previous: link(-1), next: link(1), days: days, canWrite: principal.permissions.contains("appointments:write"),
                          problem: problem, problemDetail: detail)
        return app.renderer.page("calendar", model, status: status)
    }

    func changeStatus(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("appointments:write", request, context)
        let id = try context.parameters.require("id")
        guard ParameterFormat.uuid.problem(with: id) == nil else { throw PageError.notFound }
        let form = try await FormBody.read(request)
        let back = form["back"].flatMap { $0.hasPrefix("/app/calendar") ? $0 : nil } ?? "/app/calendar"
        guard let version = form["version"].flatMap(Int.init), let status = form["status"] else {
            throw ClinicalError.invalid([.init(field: "status", message: "is missing: reload the calendar and try again")])
        }
        do {
            _ = try await app.scheduling.setStatus(id.lowercased(), to: status, expectedVersion: version, in: try context.requireTenant(),
                                                   by: AuditActor(request, context))
        } catch ClinicalError.versionMismatch {
            return try await show(request, context, query: Self.query(back), status: .conflict, problem: "Someone else changed this appointment just now.",
                                  detail: "The calendar below shows it as it is now; change it again if you still need to.")
        } catch ClinicalError.invalidTransition(let from, let to) {
            return try await show(request, context, query: Self.query(back), status: .conflict, problem: "An appointment that is \(from) cannot become \(to).")
        }
        return Response.seeOther(back)
    }

    /// The calendar's parameters in a local URI (the page's own, or the `back` a form carries).
    static func query(_ uri: String) -> [String: String] {
        var values: [String: String] = [:]
        for (name, value) in HummingbirdCore.URI(uri).queryParameters where ["practitioner_id", "day", "view"].contains(String(name)) {
            let text = String(value)
            if text.count <= 64, !TextRules.hasControlCharacter(text) { values[String(name)] = text }
        }
        return values
    }

    static func dayKey(_ date: Date, in zone: TimeZone) -> String {
        DateText("yyyy-MM-dd").string(from: date, in: zone)
    }
}
