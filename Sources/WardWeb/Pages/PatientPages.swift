import Foundation
import Hummingbird
import WardAudit
import WardClinical
import WardCore
import WardDocuments
import WardHTTP
import WardKit

/// Finding, registering and reading patients, and changing their details.
struct PatientPages: Sendable {
    let app: WebApp

    func register(_ signedIn: RouterGroup<WardRequestContext>) {
        signedIn.get("patients") { request, context in try await search(request, context) }
        signedIn.get("patients/new") { request, context in try await newPatient(request, context) }
        signedIn.post("patients") { request, context in try await create(request, context) }
        signedIn.get("patients/{id}") { request, context in try await chart(request, context) }
        signedIn.post("patients/{id}") { request, context in try await update(request, context) }
    }

    // MARK: Search

    struct SearchModel {
        let shell: Shell
        let canRegister: Bool
        let query: String
        let resultsHTML: SafeHTML
    }

    /// The page, or with `partial` only its results (what the page fetches as the user types).
    func search(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("patients:read", request, context)
        let principal = try context.requirePrincipal()
        let query = request.uri.queryParameters.get("q").map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        var results: [Patient] = []
        if !query.isEmpty {
            guard query.count <= 100, !TextRules.hasControlCharacter(query) else {
                throw ClinicalError.invalid([.init(field: "q", message: "must be 1 to 100 characters of text")])
            }
            results = try await app.patients.search(query, limit: Self.searchLimit, disclosing: .listed,
                                                    in: try context.requireTenant(), by: AuditActor(request, context))
        }
        let html = Self.resultsHTML(query: query, results: results)
        if request.uri.queryParameters.get("partial") != nil { return PageRenderer.response(html.description) }
        return app.renderer.page("patients", SearchModel(shell: try app.shell(context, current: "/app/patients"),
                                                         canRegister: principal.permissions.contains("patients:write"), query: query, resultsHTML: html))
    }

    /// As many as the contract's search asks of the API.
    static let searchLimit = 20

    /// The results: a sentence for the screen reader's live region, then the table.
    static func resultsHTML(query: String, results: [Patient]) -> SafeHTML {
        var html = SafeHTML.Builder(capacity: 512 + results.count * 256)
        guard !query.isEmpty else { return html.result }
        html.markup("<p>")
        if results.isEmpty {
            html.markup("No patient matches “")
        } else {
            html.text(String(results.count))
            html.markup(results.count == 1 ? " patient matches “" : " patients match “")
        }
        html.text(query)
        html.markup("”.</p>\n")
        guard !results.isEmpty else { return html.result }
        html.markup("<table>\n<thead><tr><th scope=\"col\">Name</th><th scope=\"col\">MRN</th><th scope=\"col\">Birth date</th><th scope=\"col\">Phone</th></tr></thead>\n<tbody>\n")
        for patient in results {
            html.markup("<tr><td><a href=\"/app/patients/")
            html.text(patient.id)
            html.markup("\">")
            html.text(patient.familyName)
            html.markup(", ")
            html.text(patient.givenName)
            html.markup("</a></td><td>")
            html.text(patient.mrn)
            html.markup("</td><td>")
            html.text(patient.birthDate ?? "")
            html.markup("</td><td>")
            html.text(patient.phone ?? "")
            html.markup("</td></tr>\n")
        }
        html.markup("</tbody>\n</table>\n")
        return html.result
    }

    // MARK: Register

    struct FormModel {
        let shell: Shell
        var fields: [Field]
        var problem: String?
        var problemDetail: String?
    }

    func newPatient(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("patients:write", request, context)
        return app.renderer.page("patient-new", FormModel(shell: try app.shell(context, current: "/app/patients"), fields: Self.fields(nil, registering: true)))
    }

    func create(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("patients:write", request, context)
        let form = try await FormBody.read(request)
        do {
            let patient = try await app.patients.create(Self.input(form, registering: true), in: try context.requireTenant(), by: AuditActor(request, context))
            return Response.seeOther("/app/patients/\(patient.id)?registered=1")
        } catch let error as ClinicalError {
            var fields = Self.fields(form, registering: true)
            let (status, problem, detail) = Self.explain(error, fields: &fields)
            return app.renderer.page("patient-new", FormModel(shell: try app.shell(context, current: "/app/patients"), fields: fields,
                                                             problem: problem, problemDetail: detail), status: status)
        }
    }

    // MARK: Chart

    struct ChartModel {
        let shell: Shell
        let id, name, mrn, birthDate, sex, phone, email, address, status: String
        let version: Int
        let canEdit: Bool
        /// The version the edit form saves over: the one shown above it.
        let editVersion: Int
        var fields: [Field]
        /// The values the edit form was opened with, sent back to tell what the user changed.
        let originals: [Original]
        var problem: String?
        var problemDetail: String?
        let canBook: Bool
        let showsAppointments: Bool
        let appointments: [AppointmentRow]
        let showsPrescriptions: Bool
        let canPrescribe: Bool
        let prescriptions: [PrescriptionRow]
        let showsAccessLog: Bool
        let accessLog: [AccessRow]
        let showsDocuments: Bool
        let canFile: Bool
        let documents: [DocumentRow]
        let categories: [Choice]
    }
    struct DocumentRow { let href, title, category, date, type, size, author: String }
    struct Choice { let value, label: String }
    struct Original { let name, value: String }
    struct AppointmentRow { let time, practitioner, status, reason: String }
    struct PrescriptionRow { let id, patientID, issued, items, status: String }
    struct AccessRow { let time, actor, action, outcome: String }

    /// The chart. A user whose roles do not include reading records, but who may open one in an
    /// emergency, reads it under their active break-glass grant, or is asked for a reason first.
    func chart(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal(), scope = try context.requireTenant()
        let id = try Self.patientID(context)
        var grant: String?
        if !principal.permissions.contains("patients:read"), principal.permissions.contains(AuditModule.breakGlass) {
            grant = try await app.breakGlass.activeGrant(userID: principal.userID, patientID: id, in: scope)
            if grant == nil { return try AuditPages(app: app).breakGlassForm(patientID: id, context) }
        } else {
            try await app.require("patients:read", request, context)
        }
        let patient = try await app.patients.read(id, in: scope, by: AuditActor(request, context), breakGlassGrant: grant)
        var shell = try app.shell(context, current: "/app/patients")
        if request.uri.queryParameters.get("registered") != nil { shell.notice = "Patient registered." }
        if request.uri.queryParameters.get("saved") != nil { shell.notice = "Changes saved." }
        if request.uri.queryParameters.get("booked") != nil { shell.notice = "Appointment booked." }
        if request.uri.queryParameters.get("unchanged") != nil { shell.notice = "Nothing was changed." }
        if request.uri.queryParameters.get("filed") != nil { shell.notice = "Document filed." }
        return try await chartPage(patient, request, context, shell: shell, fields: Self.fields(patient))
    }

    /// Saves what the user changed, and only that: each field is compared with the value the
    /// form was opened with (sent back as `was_<field>`), so saving never writes back a value
    /// someone else changed meanwhile. If the record moved on, the page shows the current version
    /// with the user's changes laid over it, to check and save again.
    func update(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("patients:write", request, context)
        let id = try Self.patientID(context), scope = try context.requireTenant(), actor = AuditActor(request, context)
        let form = try await FormBody.read(request)
        guard let version = form["version"].flatMap(Int.init), version > 0 else {
            throw ClinicalError.invalid([.init(field: "version", message: "is missing: reload the page and edit again")])
        }
        let seen = Dictionary(uniqueKeysWithValues: Self.editable.map { ($0, form["was_" + $0] ?? "") })
        let submitted = Dictionary(uniqueKeysWithValues: Self.editable.map { ($0, form[$0] ?? "") })
        let changes = submitted.filter { seen[$0.key] != $0.value }
        let emptied = changes.filter { $0.value.isEmpty }.map(\.key)
        do {
            if !emptied.isEmpty {
                throw ClinicalError.invalid(emptied.sorted().map { .init(field: $0, message: "cannot be removed here; correct it instead") })
            }
            guard !changes.isEmpty else { return Response.seeOther("/app/patients/\(id)?unchanged=1") }
            _ = try await app.patients.update(id, with: Self.input(FormBody(fields: changes), registering: false), expectedVersion: version, in: scope, by: actor)
            return Response.seeOther("/app/patients/\(id)?saved=1")
        } catch ClinicalError.versionMismatch(let current) {
            let patient = try await app.patients.read(id, in: scope, by: actor)
            let merged = Self.values(patient).merging(changes) { _, mine in mine }
            return try await chartPage(patient, request, context, shell: try app.shell(context, current: "/app/patients"),
                                       fields: Self.fields(FormBody(fields: merged), registering: false), status: .conflict,
                                       problem: "Someone else changed this record while you were editing it.",
                                       detail: "The details above are now version \(current). The form shows them with your changes laid over: check it, then save again.")
        } catch let error as ClinicalError {
            var fields = Self.fields(form, registering: false)
            let (status, problem, detail) = Self.explain(error, fields: &fields)
            let patient = try await app.patients.read(id, in: scope, by: actor)
            return try await chartPage(patient, request, context, shell: try app.shell(context, current: "/app/patients"), fields: fields,
                                       status: status, problem: problem, detail: detail, editVersion: version, originals: seen)
        }
    }

    func chartPage(_ patient: Patient, _ request: Request, _ context: WardRequestContext, shell: Shell, fields: [Field],
                           status: HTTPResponse.Status = .ok, problem: String? = nil, detail: String? = nil, editVersion: Int? = nil,
                           originals: [String: String]? = nil) async throws -> Response {
        let principal = try context.requirePrincipal(), scope = try context.requireTenant(), actor = AuditActor(request, context)
        let zone = WebApp.timeZone(scope)
        let can = principal.permissions
        var appointments: [AppointmentRow] = []
        if can.contains("appointments:read") {
            let practitioners = try await app.scheduling.practitioners(after: nil, limit: 100, in: scope)
            let names = Dictionary(practitioners.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
            appointments = try await app.appointments(practitionerID: nil, patientID: patient.id, from: nil, to: nil, in: scope, by: actor)
                .reversed()
                .map { appointment in
                    let day = Timestamp.date(appointment.start).map { TodayPage.date.string(from: $0, in: zone) } ?? ""
                    return AppointmentRow(time: day + " " + TodayPage.span(appointment, in: zone), practitioner: names[appointment.practitionerID] ?? "",
                                          status: appointment.status, reason: appointment.reason ?? "")
                }
        }
        var prescriptions: [PrescriptionRow] = []
        if can.contains("prescriptions:read") {
            prescriptions = try await app.prescribing.prescriptions(of: patient.id, in: scope, by: actor).map { prescription in
                PrescriptionRow(id: prescription.id, patientID: prescription.patientID, issued: Timestamp.date(prescription.issuedAt).map { TodayPage.date.string(from: $0, in: zone) } ?? prescription.issuedAt,
                                items: prescription.items.map { "\($0.dose) \($0.route), \($0.frequency), \($0.durationDays) days" }.joined(separator: "; "),
                                status: prescription.status)
            }
        }
        var documents: [DocumentRow] = []
        if can.contains("documents:read") {
            documents = try await app.files.list(patientID: patient.id, filter: .init(), in: scope, by: actor).map { document in
                DocumentRow(href: "/app/patients/\(patient.id)/documents/\(document.id)", title: document.title, category: DocumentPages.label(of: document.category),
                            date: document.documentDate, type: DocumentMediaType(rawValue: document.mediaType)?.fileExtension.uppercased() ?? document.mediaType,
                            size: ByteCountFormatter.string(fromByteCount: Int64(document.size), countStyle: .file), author: document.authorName ?? "")
            }
        }
        var accessLog: [AccessRow] = []
        if can.contains("audit:read") {
            var filter = AuditStore.Filter()
            filter.patientID = patient.id
            accessLog = try await app.patients.audit.events(in: scope, filter: filter, before: nil, limit: 50).map { event in
                AccessRow(time: Timestamp.date(event.occurredAt).map { TodayPage.stamp.string(from: $0, in: zone) } ?? event.occurredAt,
                          actor: event.actorName ?? event.actorID ?? event.actorType.rawValue, action: event.action, outcome: event.outcome.rawValue)
            }
        }
        let model = ChartModel(
            shell: shell, id: patient.id, name: "\(patient.givenName) \(patient.familyName)", mrn: patient.mrn, birthDate: patient.birthDate ?? "—",
            sex: patient.sex ?? "—", phone: patient.phone ?? "—", email: patient.email ?? "—", address: patient.address ?? "—", status: patient.status,
            version: patient.version, canEdit: can.contains("patients:write") && patient.status == "active", editVersion: editVersion ?? patient.version,
            fields: fields, originals: (originals ?? Self.values(patient)).sorted { $0.key < $1.key }.map { Original(name: "was_" + $0.key, value: $0.value) },
            problem: problem, problemDetail: detail, canBook: can.contains("appointments:write") && patient.status == "active",
            showsAppointments: can.contains("appointments:read"), appointments: appointments,
            showsPrescriptions: can.contains("prescriptions:read"), canPrescribe: can.contains("prescriptions:write") && patient.status == "active",
            prescriptions: prescriptions,
            showsAccessLog: can.contains("audit:read"), accessLog: accessLog,
            showsDocuments: can.contains("documents:read"), canFile: can.contains("documents:write") && patient.status == "active", documents: documents,
            categories: DocumentPages.categories.map { Choice(value: $0.0, label: $0.1) }
        )
        return app.renderer.page("patient", model, status: status)
    }

    // MARK: Forms

    static let sexChoices = [("", "Not recorded"), ("female", "Female"), ("male", "Male"), ("other", "Other"), ("unknown", "Unknown")]

    /// The patient form's fields, filled from a form sent or from the record.
    static func fields(_ form: FormBody?, registering: Bool) -> [Field] {
        var fields = [
            Field("given_name", "Given name", value: form?["given_name"], required: true, autocomplete: "off"),
            Field("family_name", "Family name", value: form?["family_name"], required: true, autocomplete: "off"),
            Field("birth_date", "Birth date", type: "date", value: form?["birth_date"], hint: "YYYY-MM-DD"),
            Field.select("sex", "Sex", choices: sexChoices, value: form?["sex"]),
            Field("phone", "Phone", type: "tel", value: form?["phone"]),
            Field("email", "Email", type: "email", value: form?["email"]),
            Field("address", "Address", value: form?["address"], autocomplete: "off"),
            Field.select("email_reminders", "Appointment reminders by email", choices: [("yes", "Yes"), ("no", "No, the patient declined them")],
                         value: form?["email_reminders"] ?? "yes"),
        ]
        if registering {
            fields.insert(Field("mrn", "Medical record number", value: form?["mrn"], hint: "Leave empty to have one assigned."), at: 0)
        }
        return fields
    }

    static func fields(_ patient: Patient) -> [Field] {
        fields(FormBody(fields: values(patient)), registering: false)
    }

    /// The fields the chart's form edits.
    static let editable = ["given_name", "family_name", "birth_date", "sex", "phone", "email", "address", "email_reminders"]

    /// The record's values of the editable fields, as the form shows them.
    static func values(_ patient: Patient) -> [String: String] {
        ["given_name": patient.givenName, "family_name": patient.familyName, "birth_date": patient.birthDate ?? "", "sex": patient.sex ?? "",
         "phone": patient.phone ?? "", "email": patient.email ?? "", "address": patient.address ?? "",
         "email_reminders": patient.emailReminders ? "yes" : "no"]
    }

    /// The change a form asks for. An empty field leaves the stored value as it is.
    static func input(_ form: FormBody, registering: Bool) -> PatientInput {
        var input = PatientInput(mrn: registering ? form["mrn"] : nil, givenName: form["given_name"], familyName: form["family_name"],
                                 birthDate: form["birth_date"], sex: form["sex"], phone: form["phone"], email: form["email"])
        input.address = form["address"]
        input.emailReminders = form["email_reminders"].map { $0 != "no" }
        return input
    }

    /// The page's status and message for a refusal, with field errors put on their fields.
    static func explain(_ error: ClinicalError, fields: inout [Field]) -> (HTTPResponse.Status, String, String?) {
        let problem = error.problem
        if case .invalid(let errors) = error {
            let unplaced = fields.attach(errors.map { ($0.field, $0.message) })
            return (.unprocessableContent, "Some details need correcting.", unplaced.isEmpty ? "Each is marked below." : unplaced.joined(separator: " "))
        }
        if case .mrnTaken = error { _ = fields.attach([("mrn", "is already used by another patient")]) }
        return (HTTPResponse.Status(code: problem.status), problem.title, problem.detail)
    }

    static func patientID(_ context: WardRequestContext) throws -> String {
        let id = try context.parameters.require("id")
        guard ParameterFormat.uuid.problem(with: id) == nil else { throw PageError.notFound }
        return id.lowercased()
    }
}
