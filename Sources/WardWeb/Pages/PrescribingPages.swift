import Foundation
import Hummingbird
import WardAudit
import WardClinical
import WardCore
import WardHTTP

/// Prescribing from the formulary, and the prescription as a sheet to print and sign.
struct PrescribingPages: Sendable {
    let app: WebApp

    /// The medications one prescription form offers; a formulary search puts its matches first.
    static let itemRows = 3

    func register(_ signedIn: RouterGroup<WardRequestContext>) {
        signedIn.get("patients/{id}/prescribe") { request, context in try await form(request, context) }
        signedIn.post("patients/{id}/prescriptions") { request, context in try await prescribe(request, context) }
        signedIn.get("patients/{id}/prescriptions/{prescription}") { request, context in try await sheet(request, context) }
        signedIn.get("patients/{id}/prescriptions/{prescription}/pdf") { request, context in try await pdf(request, context) }
    }

    struct FormModel {
        let shell: Shell
        let patientID, patientName, query: String
        var items: [Item]
        var problem: String?
        var problemDetail: String?
    }
    struct Item { let number: Int; let first: Bool; var fields: [Field] }

    func form(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("prescriptions:write", request, context)
        try await app.require("patients:read", request, context)
        return try await page(request, context, form: nil, query: request.uri.queryParameters.get("q") ?? "")
    }

    private func page(_ request: Request, _ context: WardRequestContext, form: FormBody?, query: String, errors: [Problem.FieldError] = [],
                      status: HTTPResponse.Status = .ok) async throws -> Response {
        let scope = try context.requireTenant(), id = try PatientPages.patientID(context)
        let patient = try await app.patients.read(id, in: scope, by: AuditActor(request, context))
        let trimmed = String(query.trimmingCharacters(in: .whitespaces).prefix(100))
        var medications = try await app.prescribing.medications(matching: nil, limit: 500, in: scope)
        if !trimmed.isEmpty {
            let matches = try await app.prescribing.medications(matching: trimmed, limit: 50, in: scope)
            medications = matches + medications.filter { medication in !matches.contains { $0.id == medication.id } }
        }
        let choices = [("", "Choose…")] + medications.map { ($0.id, "\($0.name) \($0.strength) \($0.form) (\($0.code))") }
        var unplaced: [String] = []
        let items = (0..<Self.itemRows).map { index -> Item in
            func value(_ name: String) -> String? { form?["items[\(index)].\(name)"] }
            var fields = [
                Field.select("items[\(index)].medication_id", "Medication", choices: choices, value: value("medication_id"), required: index == 0),
                Field("items[\(index)].dose", "Dose", value: value("dose"), hint: "For example 1 tablet.", required: index == 0, autocomplete: "off"),
                Field("items[\(index)].route", "Route", value: value("route") ?? "oral", required: index == 0, autocomplete: "off"),
                Field("items[\(index)].frequency", "Frequency", value: value("frequency"), hint: "For example twice a day.", required: index == 0, autocomplete: "off"),
                Field("items[\(index)].duration_days", "Days", type: "number", value: value("duration_days"), required: index == 0),
                Field("items[\(index)].quantity", "Quantity", type: "number", value: value("quantity"), required: index == 0),
                Field("items[\(index)].instructions", "Instructions", value: value("instructions"), autocomplete: "off"),
            ]
            unplaced += fields.attach(errors.filter { $0.field.hasPrefix("items[\(index)].") }.map { ($0.field, $0.message) })
            return Item(number: index + 1, first: index == 0, fields: fields)
        }
        unplaced += errors.filter { !$0.field.hasPrefix("items[") }.map { Array<Field>.sentence(label: $0.field.replacingOccurrences(of: "_", with: " "), message: $0.message) }
        let model = FormModel(shell: try app.shell(context, current: "/app/patients"), patientID: patient.id,
                              patientName: "\(patient.givenName) \(patient.familyName)", query: trimmed, items: items,
                              problem: errors.isEmpty ? nil : "Some details need correcting.", problemDetail: unplaced.isEmpty ? nil : unplaced.joined(separator: " "))
        return app.renderer.page("prescribe", model, status: status)
    }

    func prescribe(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("prescriptions:write", request, context)
        try await app.require("patients:read", request, context)
        let id = try PatientPages.patientID(context)
        let form = try await FormBody.read(request)
        var items: [PrescriptionItem] = []
        /// The form row of each item (rows left empty are no item).
        var rows: [Int] = []
        var errors: [Problem.FieldError] = []
        for index in 0..<Self.itemRows {
            func value(_ name: String) -> String? { form["items[\(index)].\(name)"] }
            // A row left empty is no item; a row begun must be complete.
            let used = ["medication_id", "dose", "frequency", "duration_days", "quantity", "instructions"].contains { value($0) != nil }
            guard used || index == 0 else { continue }
            guard let medication = value("medication_id") else {
                errors.append(.init(field: "items[\(index)].medication_id", message: "Choose a medication."))
                continue
            }
            let days = value("duration_days").flatMap(Int.init), quantity = value("quantity").flatMap(Int.init)
            if days == nil { errors.append(.init(field: "items[\(index)].duration_days", message: "must be a number of days")) }
            if quantity == nil { errors.append(.init(field: "items[\(index)].quantity", message: "must be a number")) }
            rows.append(index)
            items.append(PrescriptionItem(medicationID: medication, dose: value("dose") ?? "", route: value("route") ?? "", frequency: value("frequency") ?? "",
                                          durationDays: days ?? 0, quantity: quantity ?? 0, instructions: value("instructions")))
        }
        do {
            if !errors.isEmpty { throw ClinicalError.invalid(errors) }
            let prescription = try await app.prescribing.prescribe(patientID: id, items: items, in: try context.requireTenant(), by: AuditActor(request, context))
            return Response.seeOther("/app/patients/\(id)/prescriptions/\(prescription.id)?issued=1")
        } catch ClinicalError.invalid(let errors) {
            // The service numbers items; the form numbers rows.
            let placed = errors.map { error -> Problem.FieldError in
                guard let match = error.field.firstMatch(of: /^items\[(\d+)\]\.(.+)$/), let item = Int(match.1), item < rows.count else { return error }
                return .init(field: "items[\(rows[item])].\(match.2)", message: error.message)
            }
            return try await page(request, context, form: form, query: "", errors: placed, status: .unprocessableContent)
        }
    }

    // MARK: The sheet

    struct SheetModel {
        let shell: Shell
        let clinic, id, patientID, patientName, birthDate, mrn, prescriber: String
        let licence: String?
        let issued, status, reference: String
        let items: [Row]
    }
    struct Row { let medication, dose, route, frequency, days, quantity, instructions: String }

    /// The prescription as the PDF the patient is mailed (with its verification code).
    func pdf(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("prescriptions:read", request, context)
        let id = try context.parameters.require("prescription").lowercased()
        guard ParameterFormat.uuid.problem(with: id) == nil else { throw PageError.notFound }
        let pdf = try await app.documents.prescriptionPDF(id, in: try context.requireTenant(), by: AuditActor(request, context))
        return PDFResponse.make(pdf, filename: "prescription-\(id.prefix(8)).pdf")
    }

    func sheet(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("prescriptions:read", request, context)
        try await app.require("patients:read", request, context)
        let scope = try context.requireTenant(), id = try PatientPages.patientID(context), actor = AuditActor(request, context)
        let prescriptionID = try context.parameters.require("prescription").lowercased()
        let patient = try await app.patients.read(id, in: scope, by: actor)
        guard let prescription = try await app.prescribing.prescriptions(of: id, in: scope, by: actor).first(where: { $0.id == prescriptionID }) else {
            throw PageError.notFound
        }
        let medications = Dictionary(try await app.prescribing.medications(matching: nil, limit: 5000, in: scope).map { ($0.id, $0) },
                                     uniquingKeysWith: { first, _ in first })
        // The prescriber's licence: from the practitioner record linked to their user, or else
        // the one with their email.
        let prescriberEmail = (try? await app.identity.user(prescription.prescriberID, in: scope))?.email.lowercased()
        let licence = try await app.scheduling.practitioners(after: nil, limit: 100, in: scope).first {
            $0.userID == prescription.prescriberID || (prescriberEmail != nil && $0.email?.lowercased() == prescriberEmail)
        }?.licenceNumber
        var shell = try app.shell(context, current: "/app/patients")
        if request.uri.queryParameters.get("issued") != nil { shell.notice = "Prescription issued." }
        let zone = WebApp.timeZone(scope)
        let model = SheetModel(
            shell: shell, clinic: scope.tenant.name, id: prescription.id, patientID: patient.id, patientName: "\(patient.givenName) \(patient.familyName)",
            birthDate: patient.birthDate ?? "—", mrn: patient.mrn, prescriber: prescription.prescriberName ?? "—", licence: licence,
            issued: Timestamp.date(prescription.issuedAt).map { TodayPage.stamp.string(from: $0, in: zone) } ?? prescription.issuedAt,
            status: prescription.status, reference: String(prescription.id.suffix(12)).uppercased(),
            items: prescription.items.map { item in
                let medication = medications[item.medicationID]
                return Row(medication: medication.map { "\($0.name) \($0.strength) \($0.form)" } ?? "Medication no longer in the formulary",
                           dose: item.dose, route: item.route, frequency: item.frequency, days: String(item.durationDays), quantity: String(item.quantity),
                           instructions: item.instructions ?? "")
            }
        )
        return app.renderer.page("prescription", model)
    }
}
