import Foundation
import Hummingbird
import WardAudit
import WardClinical
import WardCore
import WardHTTP

/// Booking an appointment for a patient. A slot already taken is explained by whose
/// appointment takes it, so the desk can choose another time at once.
struct AppointmentPages: Sendable {
    let app: WebApp

    struct Model {
        let shell: Shell
        let patientID: String
        let patientName: String
        let timeZone: String
        var fields: [Field]
        var problem: String?
        var problemDetail: String?
    }

    static let durations = [("15", "15 minutes"), ("20", "20 minutes"), ("30", "30 minutes"), ("45", "45 minutes"), ("60", "1 hour")]

    func register(_ signedIn: RouterGroup<WardRequestContext>) {
        signedIn.get("appointments/new") { request, context in try await newAppointment(request, context) }
        signedIn.post("appointments") { request, context in try await book(request, context) }
    }

    func newAppointment(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("appointments:write", request, context)
        try await app.require("patients:read", request, context)
        guard let patientID = request.uri.queryParameters.get("patient_id"), ParameterFormat.uuid.problem(with: patientID) == nil else {
            throw PageError.notFound
        }
        return try await page(patientID: patientID.lowercased(), form: nil, request, context)
    }

    func book(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("appointments:write", request, context)
        try await app.require("patients:read", request, context)
        let form = try await FormBody.read(request)
        guard let patientID = form["patient_id"], ParameterFormat.uuid.problem(with: patientID) == nil else { throw PageError.notFound }
        let scope = try context.requireTenant(), zone = WebApp.timeZone(scope)
        var errors: [Problem.FieldError] = []
        guard let practitionerID = form["practitioner_id"] else {
            return try await page(patientID: patientID, form: form, request, context, errors: [.init(field: "practitioner_id", message: "Choose a practitioner.")])
        }
        let start = form["start"].flatMap { Self.localTime($0, in: zone) }
        if start == nil { errors.append(.init(field: "start", message: "Enter the date and time the appointment starts.")) }
        let minutes = form["minutes"].flatMap(Int.init).flatMap { (5...480).contains($0) ? $0 : nil }
        if minutes == nil { errors.append(.init(field: "minutes", message: "Choose how long the appointment lasts.")) }
        guard let start, let minutes, errors.isEmpty else { return try await page(patientID: patientID, form: form, request, context, errors: errors) }
        let end = start.addingTimeInterval(TimeInterval(minutes * 60))
        let actor = AuditActor(request, context)
        do {
            _ = try await app.scheduling.book(patientID: patientID, practitionerID: practitionerID, start: start, end: end, reason: form["reason"],
                                              in: scope, by: actor)
            return Response.seeOther("/app/patients/\(patientID)?booked=1")
        } catch ClinicalError.doubleBooked(let clashID) {
            let clashes = try await app.scheduling.appointments(practitionerID: practitionerID, patientID: nil, status: nil, from: start, to: end,
                                                                after: nil, limit: 20, in: scope, by: actor)
            let taken = clashes.first { $0.id == clashID }
            var whom = "another appointment"
            if let taken {
                let name = try await app.patients.names(of: [taken.patientID], in: scope, by: actor)[taken.patientID] ?? "another patient"
                whom = "the appointment of \(name), \(TodayPage.span(taken, in: zone))"
            }
            return try await page(patientID: patientID, form: form, request, context, status: .conflict,
                                  problem: "This slot is taken by \(whom).",
                                  detail: "The practitioner is already booked then. Choose another time or another practitioner.")
        } catch let error as ClinicalError {
            if case .invalid(let errors) = error { return try await page(patientID: patientID, form: form, request, context, errors: errors) }
            throw error
        }
    }

    private func page(patientID: String, form: FormBody?, _ request: Request, _ context: WardRequestContext, errors: [Problem.FieldError] = [],
                      status: HTTPResponse.Status? = nil, problem: String? = nil, detail: String? = nil) async throws -> Response {
        let scope = try context.requireTenant(), zone = WebApp.timeZone(scope)
        let patient = try await app.patients.read(patientID, in: scope, by: AuditActor(request, context))
        let practitioners = try await app.scheduling.practitioners(after: nil, limit: 100, in: scope).filter { $0.active != 0 }
        var fields = [
            Field.select("practitioner_id", "Practitioner", choices: [("", "Choose…")] + practitioners.map { ($0.id, $0.name + ($0.specialty.map { ", \($0)" } ?? "")) },
                         value: form?["practitioner_id"], required: true),
            Field("start", "Starts", type: "datetime-local", value: form?["start"], required: true),
            Field.select("minutes", "Length", choices: Self.durations, value: form?["minutes"] ?? "30", required: true),
            Field("reason", "Reason", value: form?["reason"]),
        ]
        let unplaced = fields.attach(errors.map { ($0.field, $0.message) })
        let model = Model(shell: try app.shell(context, current: "/app/patients"), patientID: patient.id,
                          patientName: "\(patient.givenName) \(patient.familyName)", timeZone: zone.identifier, fields: fields,
                          problem: problem ?? (errors.isEmpty ? nil : "Some details need correcting."),
                          problemDetail: detail ?? (unplaced.isEmpty ? nil : unplaced.joined(separator: " ")))
        return app.renderer.page("appointment-new", model, status: status ?? (errors.isEmpty ? .ok : .unprocessableContent))
    }

    /// A `datetime-local` value ("2026-12-03T09:30") read in the clinic's time zone.
    static func localTime(_ text: String, in zone: TimeZone) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        for format in ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}
