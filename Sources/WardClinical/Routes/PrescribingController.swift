import Foundation
import HTTPTypes
package import Hummingbird
import OpenAPIKit
import WardAudit
import WardCore
package import WardHTTP

/// `/api/v1/medications` (the tenant's formulary) and `/api/v1/prescriptions`.
package struct PrescribingController: Sendable {
    let prescribing: PrescribingService
    let documents: ClinicalDocuments

    package init(prescribing: PrescribingService, documents: ClinicalDocuments) {
        self.prescribing = prescribing
        self.documents = documents
    }

    package static let operations: [APIOperation] = [
        APIOperation("listMedications", .get, "/api/v1/medications", summary: "The formulary, or medications matching q (code exact, names one edit per word)",
                     tag: "prescribing", access: .staff, permission: "prescriptions:read", success: (200, "application/json", ItemList<Medication>.self), problems: [400, 401, 403])
            .query(QueryParameter("q", .text(maxLength: 100), "A code, or words of a name"), .limit(default: 50, maximum: 100)),
        APIOperation("addMedication", .post, "/api/v1/medications", summary: "Add a medication to the formulary (409 when its code is there already)", tag: "prescribing", access: .staff,
                     permission: "prescriptions:write", success: (201, "application/json", Medication.self), problems: [400, 401, 403, 409, 422], request: NewMedication.self),
        APIOperation("prescribe", .post, "/api/v1/prescriptions", summary: "Issue a prescription", tag: "prescribing", access: .staff,
                     permission: "prescriptions:write", success: (201, "application/json", Prescription.self), problems: [400, 401, 403, 422], request: NewPrescription.self).versioned(),
        APIOperation("listPatientPrescriptions", .get, "/api/v1/patients/{id}/prescriptions", summary: "A patient's prescriptions, newest first", tag: "prescribing",
                     access: .staff, permission: "prescriptions:read", success: (200, "application/json", ItemList<Prescription>.self), problems: [401, 403]),
        APIOperation("changePrescriptionStatus", .post, "/api/v1/prescriptions/{id}/status", summary: "Complete or cancel a prescription (If-Match required)", tag: "prescribing",
                     access: .staff, permission: "prescriptions:write", success: (200, "application/json", Prescription.self), problems: [400, 401, 403, 404, 409, 412, 422, 428], request: StatusChange.self)
            .versioned(ifMatch: true),
        APIOperation("prescriptionPDF", .get, "/api/v1/prescriptions/{id}/pdf", summary: "The prescription as a PDF document (audited as a read of the patient's record)",
                     tag: "prescribing", access: .staff, permission: "prescriptions:read", success: (200, "application/pdf", nil), problems: [401, 403, 404]),
    ]

    /// A code already in the formulary answers 409.
    struct NewMedication: APIRequestBody {
        let code: String
        let name: String
        let form: String
        let strength: String
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            let text = PrescribingService.medicationText.schema
            return ["code": .string(pattern: PrescribingService.codePattern), "name": text, "form": text, "strength": text]
        }
    }
    /// The patient and each medication must be active records of the tenant (422 otherwise).
    struct NewPrescription: APIRequestBody {
        let patientID: String
        let items: [NewPrescriptionItem]
        enum CodingKeys: String, CodingKey { case items, patientID = "patient_id" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["patient_id": .id, "items": .array(minItems: 1, maxItems: 20, items: .component(NewPrescriptionItem.self))]
        }
    }
    struct NewPrescriptionItem: APIRequestBody {
        let medicationID: String
        let dose: String
        let route: String
        let frequency: String
        let durationDays: Int
        let quantity: Int
        let instructions: String?
        enum CodingKeys: String, CodingKey {
            case dose, route, frequency, quantity, instructions
            case medicationID = "medication_id", durationDays = "duration_days"
        }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            let text = PrescribingService.itemText.schema
            return ["medication_id": .id, "dose": text, "route": text, "frequency": text,
                    "duration_days": .integer(maximum: (365, exclusive: false), minimum: (1, exclusive: false)),
                    "quantity": .integer(maximum: (10_000, exclusive: false), minimum: (1, exclusive: false)),
                    "instructions": PrescribingService.instructions.schema]
        }
        var item: PrescriptionItem {
            PrescriptionItem(medicationID: medicationID, dose: dose, route: route, frequency: frequency, durationDays: durationDays,
                             quantity: quantity, instructions: instructions)
        }
    }
    struct StatusChange: APIRequestBody {
        let status: String
        static var schemaName: String { "PrescriptionStatusChange" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["status": .enumeration(["completed", "cancelled"])] }
    }

    package func routes(_ routes: inout ModuleRoutes) {
        let prescribing = self.prescribing
        routes.on("listMedications") { request, context -> Response in
            let q = request.uri.queryParameters.get("q")
            if let q, q.count > 100 { throw InvalidQuery(field: "q", message: "must be at most 100 characters") }
            let limit = try request.pageLimit(default: 50, maximum: 100)
            return try JSONResponse.make(ItemList(try await prescribing.medications(matching: q, limit: limit, in: try context.requireTenant())))
        }
        routes.on("addMedication") { request, context -> Response in
            let body = try await request.decode(as: NewMedication.self, context: context)
            let medication = try await prescribing.addMedication(code: body.code, name: body.name, form: body.form, strength: body.strength,
                                                                 in: try context.requireTenant(), by: AuditActor(request, context))
            return try JSONResponse.make(medication, status: .created)
        }
        routes.on("prescribe") { request, context -> Response in
            let body = try await request.decode(as: NewPrescription.self, context: context)
            let prescription = try await prescribing.prescribe(patientID: body.patientID, items: body.items.map(\.item), in: try context.requireTenant(),
                                                               by: AuditActor(request, context))
            return try JSONResponse.make(prescription, status: .created, etag: "\"\(prescription.version)\"")
        }
        routes.on("listPatientPrescriptions") { request, context -> Response in
            try JSONResponse.make(ItemList(try await prescribing.prescriptions(of: try context.parameters.require("id"), in: try context.requireTenant(),
                                                                                    by: AuditActor(request, context))))
        }
        let documents = self.documents
        routes.on("prescriptionPDF") { request, context -> Response in
            let id = try context.parameters.require("id")
            let pdf = try await documents.prescriptionPDF(id, in: try context.requireTenant(), by: AuditActor(request, context))
            return PDFResponse.make(pdf, filename: "prescription-\(id.prefix(8)).pdf")
        }
        routes.on("changePrescriptionStatus") { request, context -> Response in
            let version = try IfMatch.requiredVersion(of: request)
            let body = try await request.decode(as: StatusChange.self, context: context)
            let prescription = try await prescribing.setStatus(try context.parameters.require("id"), to: body.status, expectedVersion: version,
                                                               in: try context.requireTenant(), by: AuditActor(request, context))
            return try JSONResponse.make(prescription, etag: "\"\(prescription.version)\"")
        }
    }
}
