import Foundation
import Hummingbird
import WardAudit
import WardClinical
import WardCore
import WardHTTP
import WardIdentity
import WardKit

/// The audit trail for auditors (filters, pages, CSV export), and emergency access to a
/// patient's record for staff whose roles do not include reading it.
struct AuditPages: Sendable {
    let app: WebApp

    func register(_ signedIn: RouterGroup<WardRequestContext>) {
        signedIn.get("audit") { request, context in try await trail(request, context) }
        signedIn.get("audit/export") { request, context in try await export(request, context) }
        signedIn.post("patients/{id}/break-glass") { request, context in try await openInEmergency(request, context) }
    }

    // MARK: The trail

    struct Model {
        let shell: Shell
        var fields: [Field]
        let query: String
        let summary: String
        let events: [Event]
        let older: String?
        var problem: String?
        var problemDetail: String?
    }
    struct Event { let seq, time, actor, action, resource, outcome, reason: String; let patientID: String? }

    static let pageSize = 50

    func trail(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require(AuditModule.auditRead, request, context)
        let scope = try context.requireTenant(), zone = WebApp.timeZone(scope)
        let users = try await app.identity.users(in: scope)
        let values = Self.values(request)
        let (filter, errors) = Self.filter(values, zone: zone)
        var fields = Self.fields(values, users: users.map { ($0.id, $0.name) })
        let unplaced = fields.attach(errors)
        let before = request.uri.queryParameters.get("before").flatMap(Int64.init)
        let events = errors.isEmpty ? try await app.audit.events(in: scope, filter: filter, before: before, limit: Self.pageSize) : []
        let rows = events.map { event in
            Event(seq: String(event.seq), time: Timestamp.date(event.occurredAt).map { TodayPage.stamp.string(from: $0, in: zone) } ?? event.occurredAt,
                  actor: event.actorName ?? event.actorID ?? event.actorType.rawValue, action: event.action,
                  resource: [event.resourceType, event.resourceID].compactMap { $0 }.joined(separator: " "), outcome: event.outcome.rawValue,
                  reason: event.reason ?? "", patientID: event.patientID)
        }
        let query = Self.query(values)
        let older = events.count == Self.pageSize ? events.last.map { (query.isEmpty ? "" : query + "&") + "before=\($0.seq)" } : nil
        let summary = events.isEmpty ? "No event matches." : "Events \(events.first!.seq) to \(events.last!.seq), newest first."
        let model = Model(shell: try app.shell(context, current: "/app/audit"), fields: fields, query: query, summary: summary, events: rows,
                          older: older, problem: errors.isEmpty ? nil : "Some filters need correcting.",
                          problemDetail: unplaced.isEmpty ? nil : unplaced.joined(separator: " "))
        return app.renderer.page("audit", model, status: errors.isEmpty ? .ok : .unprocessableContent)
    }

    func export(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require(AuditModule.auditRead, request, context)
        let scope = try context.requireTenant()
        let (filter, errors) = Self.filter(Self.values(request), zone: WebApp.timeZone(scope))
        guard errors.isEmpty else { throw ClinicalError.invalid(errors.map { .init(field: $0.field, message: $0.message) }) }
        return try await AuditExport.response(filter: filter, csv: true, in: scope, trail: app.audit, by: AuditActor(request, context))
    }

    static let filterNames = ["actor_id", "patient_id", "action", "outcome", "from", "to"]

    /// The filters the request names, trimmed; empty ones left out.
    static func values(_ request: Request) -> [String: String] {
        var values: [String: String] = [:]
        for name in filterNames {
            if let value = request.uri.queryParameters.get(name)?.trimmingCharacters(in: .whitespaces), !value.isEmpty { values[name] = value }
        }
        return values
    }

    static func fields(_ query: [String: String], users: [(String, String)]) -> [Field] {
        [
            Field.select("actor_id", "User", choices: [("", "Anyone")] + users, value: query["actor_id"]),
            Field("patient_id", "Patient id", value: query["patient_id"], autocomplete: "off"),
            Field("action", "Action", value: query["action"], hint: "For example read, update, login, export.", autocomplete: "off"),
            Field.select("outcome", "Outcome", choices: [("", "Any"), ("success", "Success"), ("denied", "Denied"), ("error", "Error")],
                         value: query["outcome"]),
            Field("from", "From (day)", type: "date", value: query["from"]),
            Field("to", "To (day, inclusive)", type: "date", value: query["to"]),
        ]
    }

    /// The filter a query asks for, read in the clinic's time zone; the errors name the fields.
    static func filter(_ query: [String: String], zone: TimeZone) -> (AuditStore.Filter, [(field: String, message: String)]) {
        var filter = AuditStore.Filter(), errors: [(field: String, message: String)] = []
        for name in ["actor_id", "patient_id"] {
            guard let value = query[name] else { continue }
            if ParameterFormat.uuid.problem(with: value) != nil { errors.append((name, "must be an id as Ward shows them")) }
        }
        filter.actorID = query["actor_id"]?.lowercased()
        filter.patientID = query["patient_id"]?.lowercased()
        if let action = query["action"] {
            if action.count > 64 || TextRules.hasControlCharacter(action) { errors.append(("action", "must be a word of up to 64 characters")) }
            filter.action = action
        }
        if let outcome = query["outcome"] {
            if !["success", "denied", "error"].contains(outcome) { errors.append(("outcome", "must be success, denied or error")) }
            filter.outcome = outcome
        }
        for name in ["from", "to"] {
            guard let value = query[name] else { continue }
            // The day's own start and end in the clinic's zone (23 or 25 hours on a clock change).
            guard let window = DailyReport.window(of: value, in: zone) else {
                errors.append((name, "must be a day as YYYY-MM-DD"))
                continue
            }
            if name == "to" { filter.to = Timestamp.text(window.end) } else { filter.from = Timestamp.text(window.start) }
        }
        return (filter, errors)
    }

    /// The filters as a query string, for the export link and the next page.
    static func query(_ query: [String: String]) -> String {
        filterNames.compactMap { name in
            query[name].map { "\(name)=\($0.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? "")" }
        }.joined(separator: "&")
    }

    /// The characters a query value keeps as they are (RFC 3986's unreserved).
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    // MARK: Emergency access

    struct BreakGlassModel {
        let shell: Shell
        let patientID: String
        let minutes: Int
        var fields: [Field]
        var problem: String?
        var problemDetail: String?
    }

    /// The form that stands in for a chart the user may not read, if they may open it in an
    /// emergency. Shown with 403: until they give a reason, the record stays closed.
    func breakGlassForm(patientID: String, _ context: WardRequestContext, reason: String? = nil, error: String? = nil) throws -> Response {
        var reasonField = Field("reason", "Why you need this record now", value: reason,
                                hint: "In at least three words, \(BreakGlass.reason.minLength) to \(BreakGlass.reason.maxLength) characters.", required: true,
                                autocomplete: "off")
        reasonField.error = error
        let model = BreakGlassModel(shell: try app.shell(context, current: "/app/patients"), patientID: patientID,
                                    minutes: Int(app.breakGlass.duration.components.seconds / 60), fields: [reasonField],
                                    problem: error == nil ? nil : "The record was not opened.")
        return app.renderer.page("break-glass", model, status: error == nil ? .forbidden : .unprocessableContent)
    }

    func openInEmergency(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require(AuditModule.breakGlass, request, context)
        let id = try PatientPages.patientID(context)
        let form = try await FormBody.read(request)
        do {
            _ = try await app.breakGlass.grant(patientID: id, reason: form["reason"] ?? "", in: try context.requireTenant(), by: AuditActor(request, context))
        } catch let error as any ProblemConvertible where error.problem.status == 422 || error.problem.status == 400 {
            let message = error.problem.errors?.first.map { "The reason \($0.message)." } ?? (error.problem.detail ?? error.problem.title)
            return try breakGlassForm(patientID: id, context, reason: form["reason"], error: message)
        }
        return Response.seeOther("/app/patients/\(id)")
    }
}
