import Foundation
import Hummingbird
import WardAudit
import WardClinical
import WardCore
import WardHTTP

/// The first page after signing in: a practitioner's own appointments today, or for the desk
/// the whole clinic's day with counts by status.
struct TodayPage: Sendable {
    let app: WebApp

    struct Model {
        let shell: Shell
        let dayLabel: String
        let showsAppointments: Bool
        let listHeading: String
        let counts: [Count]
        let appointments: [Row]
    }
    struct Count { let label: String; let count: Int }
    struct Row { let time, patientID, patientName, practitioner, status, reason: String }

    func register(_ signedIn: RouterGroup<WardRequestContext>) {
        signedIn.get { request, context in try await show(request, context) }
    }

    func show(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal(), scope = try context.requireTenant()
        let zone = WebApp.timeZone(scope)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let now = app.clock.now
        let start = calendar.startOfDay(for: now), end = calendar.date(byAdding: .day, value: 1, to: start)!
        let dayLabel = Self.day.string(from: now, in: zone)
        guard principal.permissions.contains("appointments:read") else {
            return app.renderer.page("today", Model(shell: try app.shell(context, current: "/app"), dayLabel: dayLabel, showsAppointments: false,
                                                    listHeading: "", counts: [], appointments: []))
        }
        let actor = AuditActor(request, context)
        let practitioners = try await app.scheduling.practitioners(after: nil, limit: 100, in: scope)
        let own = WebApp.practitioner(of: principal, among: practitioners)
        let appointments = try await app.appointments(practitionerID: own?.id, patientID: nil, from: start, to: end, in: scope, by: actor)
        let names = try await app.patientNames(Set(appointments.map(\.patientID)), principal, in: scope, by: actor)
        let practitionerNames = Dictionary(practitioners.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let rows = appointments.map { appointment in
            Row(time: Self.span(appointment, in: zone), patientID: appointment.patientID, patientName: names[appointment.patientID] ?? "a patient",
                practitioner: practitionerNames[appointment.practitionerID] ?? "", status: appointment.status, reason: appointment.reason ?? "")
        }
        let counts = ["booked", "arrived", "fulfilled", "cancelled", "noshow"].map { status in
            Count(label: status == "noshow" ? "no-show" : status, count: appointments.filter { $0.status == status }.count)
        }
        return app.renderer.page("today", Model(shell: try app.shell(context, current: "/app"), dayLabel: dayLabel, showsAppointments: true,
                                                listHeading: own == nil ? "The clinic's appointments" : "Your appointments",
                                                counts: counts, appointments: rows))
    }

    /// "09:30–10:00" in the clinic's time zone.
    static func span(_ appointment: Appointment, in zone: TimeZone) -> String {
        guard let start = Timestamp.date(appointment.start), let end = Timestamp.date(appointment.end) else { return appointment.start }
        return Self.time.string(from: start, in: zone) + "–" + Self.time.string(from: end, in: zone)
    }

    static let day = DateText("EEEE d MMMM yyyy")
    static let date = DateText("d MMM yyyy")
    static let stamp = DateText("d MMM yyyy HH:mm:ss")
    static let time = DateText("HH:mm")
}

/// A date format in a time zone chosen per call (formatters are not shared across threads).
struct DateText: Sendable {
    let format: String
    init(_ format: String) { self.format = format }

    func string(from date: Date, in zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_GB")
        formatter.timeZone = zone
        formatter.dateFormat = format
        return formatter.string(from: date)
    }
}
