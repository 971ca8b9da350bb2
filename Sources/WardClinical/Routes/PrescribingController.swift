import Foundation
import HTTPTypes
package import Hummingbird
import WardAudit
import WardCore
package import WardHTTP

/// `/api/v1/medications` (the tenant's formulary) and `/api/v1/prescriptions`.
package struct PrescribingController: Sendable {
    let prescribing: PrescribingService

    package init(prescribing: PrescribingService) {
        self.prescribing = prescribing
    }

    package static let operations: [APIOperation] = [
        APIOperation("listMedications", .get, "/api/v1/medications", summary: "The formulary, or medications matching q (code exact, names one edit per word)",
                     tag: "prescribing", access: .staff, permission: "prescriptions:read", success: (200, "application/json", "MedicationPage"), problems: [400, 401, 403])
            .query(QueryParameter("q", .text(maxLength: 100), "A code, or words of a name"), .limit(default: 50, maximum: 100)),
        APIOperation("addMedication", .post, "/api/v1/medications", summary: "Add a medication to the formulary (409 when its code is there already)", tag: "prescribing", access: .staff,
                     permission: "prescriptions:write", success: (201, "application/json", "Medication"), problems: [400, 401, 403, 409, 422], request: "NewMedication"),
        APIOperation("prescribe", .post, "/api/v1/prescriptions", summary: "Issue a prescription", tag: "prescribing", access: .staff,
                     permission: "prescriptions:write", success: (201, "application/json", "Prescription"), problems: [400, 401, 403, 422], request: "NewPrescription").versioned(),
        APIOperation("listPatientPrescriptions", .get, "/api/v1/patients/{id}/prescriptions", summary: "A patient's prescriptions, newest first", tag: "prescribing",
                     access: .staff, permission: "prescriptions:read", success: (200, "application/json", "PrescriptionPage"), problems: [401, 403]),
        APIOperation("changePrescriptionStatus", .post, "/api/v1/prescriptions/{id}/status", summary: "Complete or cancel a prescription (If-Match required)", tag: "prescribing",
                     access: .staff, permission: "prescriptions:write", success: (200, "application/json", "Prescription"), problems: [400, 401, 403, 404, 409, 412, 422, 428], request: "PrescriptionStatusChange")
            .versioned(ifMatch: true),
    ]

    package static var schemas: [String: Any] {
        let string: [String: Any] = ["type": "string"]
        return [
            "Medication": ["type": "object", "required": ["id", "code", "name", "form", "strength"],
                           "properties": ["id": string, "code": string, "name": string, "form": string, "strength": string, "active": ["type": "integer"]]],
            "PrescriptionItem": [
                "type": "object", "required": ["medication_id", "dose", "route", "frequency", "duration_days", "quantity"],
                "properties": ["medication_id": string, "dose": string, "route": string, "frequency": string, "duration_days": ["type": "integer"],
                               "quantity": ["type": "integer"], "instructions": ["type": ["string", "null"]]],
            ],
            "Prescription": [
                "type": "object", "required": ["id", "patient_id", "prescriber_id", "status", "issued_at", "items", "version"],
                "properties": ["id": string, "patient_id": string, "prescriber_id": string, "prescriber_name": ["type": ["string", "null"]],
                               "status": ["type": "string", "enum": ["active", "completed", "cancelled"]], "issued_at": string,
                               "items": ["type": "array", "items": ["$ref": "#/components/schemas/PrescriptionItem"]], "version": ["type": "integer"]],
            ],
            "MedicationPage": ["type": "object", "properties": ["items": ["type": "array", "items": ["$ref": "#/components/schemas/Medication"]]]],
            // A code already in the formulary answers 409.
            "NewMedication": RequestSchema.object(["code": ["type": "string", "pattern": PrescribingService.codePattern],
                                                   "name": PrescribingService.medicationText.schema, "form": PrescribingService.medicationText.schema,
                                                   "strength": PrescribingService.medicationText.schema],
                                                  required: ["code", "name", "form", "strength"]),
            // The patient and each medication must be active records of the tenant (422 otherwise).
            "NewPrescription": RequestSchema.object(["patient_id": ParameterFormat.uuid.schema,
                                                     "items": ["type": "array", "minItems": 1, "maxItems": 20,
                                                               "items": ["$ref": "#/components/schemas/NewPrescriptionItem"]]],
                                                    required: ["patient_id", "items"]),
            "NewPrescriptionItem": RequestSchema.object([
                "medication_id": ParameterFormat.uuid.schema, "dose": PrescribingService.itemText.schema,
                "route": PrescribingService.itemText.schema, "frequency": PrescribingService.itemText.schema,
                "duration_days": ["type": "integer", "minimum": 1, "maximum": 365],
                "quantity": ["type": "integer", "minimum": 1, "maximum": 10_000],
                "instructions": PrescribingService.instructions.schema,
            ], required: ["medication_id", "dose", "route", "frequency", "duration_days", "quantity"]),
            "PrescriptionStatusChange": RequestSchema.object(["status": ["type": "string", "enum": ["completed", "cancelled"]]], required: ["status"]),
            "PrescriptionPage": ["type": "object", "properties": ["items": ["type": "array", "items": ["$ref": "#/components/schemas/Prescription"]]]],
        ]
    }

    struct NewMedication: Decodable { let code: String; let name: String; let form: String; let strength: String }
    struct NewPrescription: Decodable {
        let patientID: String
        let items: [PrescriptionItem]
        enum CodingKeys: String, CodingKey { case items, patientID = "patient_id" }
    }
    struct StatusChange: Decodable { let status: String }

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
            let prescription = try await prescribing.prescribe(patientID: body.patientID, items: body.items, in: try context.requireTenant(),
                                                               by: AuditActor(request, context))
            return try JSONResponse.make(prescription, status: .created, etag: "\"\(prescription.version)\"")
        }
        routes.on("listPatientPrescriptions") { request, context -> Response in
            try JSONResponse.make(ItemList(try await prescribing.prescriptions(of: try context.parameters.require("id"), in: try context.requireTenant(),
                                                                                    by: AuditActor(request, context))))
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
