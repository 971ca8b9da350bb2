import Foundation
import HTTPTypes
package import Hummingbird
import NIOCore
import OpenAPIKit
import WardAudit
import WardCore
package import WardHTTP

/// `/api/v1/patients`, `/api/v1/practitioners` and `/api/v1/appointments`.
package struct ClinicalController: Sendable {
    let patients: PatientService
    let scheduling: SchedulingService

    package init(patients: PatientService, scheduling: SchedulingService) {
        self.patients = patients
        self.scheduling = scheduling
    }

    package static let operations: [APIOperation] = [
        APIOperation("listPatients", .get, "/api/v1/patients", summary: "List patients, or search them with q (names typo-tolerant; MRN, phone, email, national id, birth date exact)",
                     tag: "clinical", access: .staff, permission: "patients:read", success: (200, "application/json", ItemPage<Patient>.self), problems: [400, 401, 403])
            .query(QueryParameter("q", .text(maxLength: 100), "Search text: names (typo-tolerant), MRN, phone, email or birth date"),
                   .limit(default: 50, maximum: 100), .cursor(.uuid)),
        APIOperation("registerPatient", .post, "/api/v1/patients", summary: "Register a patient", tag: "clinical", access: .staff, permission: "patients:write",
                     success: (201, "application/json", Patient.self), problems: [400, 401, 403, 409, 422], request: NewPatient.self).versioned(),
        APIOperation("readPatient", .get, "/api/v1/patients/{id}", summary: "One patient (ETag gives the version); an active break-glass grant stands in for patients:read",
                     tag: "clinical", access: .staff, permission: "patients:read", success: (200, "application/json", Patient.self),
                     problems: [401, 403, 404], breakGlassParameter: "id").versioned(),
        APIOperation("updatePatient", .patch, "/api/v1/patients/{id}", summary: "Change a patient; If-Match with the ETag read is required", tag: "clinical",
                     access: .staff, permission: "patients:write", success: (200, "application/json", Patient.self), problems: [400, 401, 403, 404, 409, 412, 422, 428], request: PatientInput.self)
            .versioned(ifMatch: true),
        APIOperation("archivePatient", .post, "/api/v1/patients/{id}/archive", summary: "Archive a patient (records are never deleted)", tag: "clinical",
                     access: .staff, permission: "patients:write", success: (200, "application/json", Patient.self), problems: [401, 403, 404, 412, 422], request: ArchiveRequest.self)
            .versioned(ifMatch: false).optionalBody(),
        APIOperation("patientAccessLog", .get, "/api/v1/patients/{id}/access-log", summary: "Who accessed this patient's record, and when", tag: "audit",
                     access: .staff, permission: "audit:read", success: (200, "application/json", ItemPage<AuditEvent>.self), problems: [400, 401, 403])
            .query(.limit(default: 50, maximum: 500), .cursor(.integer(1...Int64.max))),
        APIOperation("listPractitioners", .get, "/api/v1/practitioners", summary: "List practitioners", tag: "scheduling", access: .staff,
                     permission: "appointments:read", success: (200, "application/json", ItemPage<Practitioner>.self), problems: [400, 401, 403])
            .query(.limit(default: 50, maximum: 100), .cursor(.uuid)),
        APIOperation("addPractitioner", .post, "/api/v1/practitioners", summary: "Add a practitioner", tag: "scheduling", access: .staff,
                     permission: "users:manage", success: (201, "application/json", Practitioner.self), problems: [400, 401, 403, 422], request: NewPractitioner.self),
        APIOperation("listAppointments", .get, "/api/v1/appointments", summary: "Appointments by practitioner, patient, status and time range", tag: "scheduling",
                     access: .staff, permission: "appointments:read", success: (200, "application/json", ItemPage<Appointment>.self), problems: [400, 401, 403])
            .query(QueryParameter("practitioner_id", .uuid, "Only this practitioner's"), QueryParameter("patient_id", .uuid, "Only this patient's"),
                   QueryParameter("status", .choice(Appointment.statuses), "Only in this status"),
                   QueryParameter("from", .dateTime, "Only ending after this time"), QueryParameter("to", .dateTime, "Only starting before this time"),
                   .limit(default: 50, maximum: 100), .cursor(.uuid)),
        APIOperation("bookAppointment", .post, "/api/v1/appointments", summary: "Book an appointment; 409 names an overlapping one", tag: "scheduling",
                     access: .staff, permission: "appointments:write", success: (201, "application/json", Appointment.self), problems: [400, 401, 403, 409, 422], request: NewAppointment.self).versioned(),
        APIOperation("changeAppointmentStatus", .post, "/api/v1/appointments/{id}/status", summary: "Move an appointment to another status (If-Match required)", tag: "scheduling",
                     access: .staff, permission: "appointments:write", success: (200, "application/json", Appointment.self), problems: [400, 401, 403, 404, 409, 412, 422, 428], request: StatusChange.self)
            .versioned(ifMatch: true),
    ]

    struct NewPractitioner: APIRequestBody {
        let name: String
        let specialty: String?
        let licenceNumber: String?
        let email: String?
        enum CodingKeys: String, CodingKey { case name, specialty, email, licenceNumber = "licence_number" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["name": Practitioner.name.schema, "specialty": Practitioner.specialty.schema, "licence_number": Practitioner.licenceNumber.schema,
             "email": TextRules.emailSchema]
        }
    }
    /// An appointment ends after it starts, within 24 hours, and names an active patient and
    /// practitioner: rules across fields and records, answered 422 by the service.
    struct NewAppointment: APIRequestBody {
        let patientID: String
        let practitionerID: String
        let start: String
        let end: String
        let reason: String?
        enum CodingKeys: String, CodingKey { case start, end, reason, patientID = "patient_id", practitionerID = "practitioner_id" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["patient_id": .id, "practitioner_id": .id, "start": ParameterFormat.dateTime.schema, "end": ParameterFormat.dateTime.schema,
             "reason": Appointment.reason.schema]
        }
    }
    struct StatusChange: APIRequestBody {
        let status: String
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["status": .enumeration(Appointment.statuses)] }
    }
    struct ArchiveRequest: APIRequestBody {
        let reason: String?
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["reason": PatientService.archiveReason.schema] }
    }

    package func routes(_ routes: inout ModuleRoutes) {
        let patients = self.patients, scheduling = self.scheduling
        routes.on("listPatients") { request, context -> Response in
            let scope = try context.requireTenant()
            let limit = try request.pageLimit(default: 50, maximum: 100)
            if let q = request.uri.queryParameters.get("q") {
                guard (1...100).contains(q.count) else { throw InvalidQuery(field: "q", message: "must be 1 to 100 characters") }
                return JSONResponse.make(ItemPage(try await patients.search(q, limit: limit, in: scope, by: AuditActor(request, context)), nextCursor: nil))
            }
            let page = try await patients.list(after: try Self.cursor(request), limit: limit, in: scope, by: AuditActor(request, context))
            return JSONResponse.make(ItemPage(page, nextCursor: page.count == limit ? page.last?.id : nil))
        }
        routes.on("registerPatient") { request, context -> Response in
            let input = try await request.decode(as: NewPatient.self, context: context).input
            let patient = try await patients.create(input, in: try context.requireTenant(), by: AuditActor(request, context))
            return JSONResponse.make(patient, status: .created, etag: patient.etag)
        }
        routes.on("readPatient") { request, context -> Response in
            let patient = try await patients.read(try context.parameters.require("id"), in: try context.requireTenant(), by: AuditActor(request, context),
                                                  breakGlassGrant: context.breakGlassGrant)
            return JSONResponse.make(patient, etag: patient.etag)
        }
        routes.on("updatePatient") { request, context -> Response in
            let version = try IfMatch.requiredVersion(of: request)
            let input = try await request.decode(as: PatientInput.self, context: context)
            let patient = try await patients.update(try context.parameters.require("id"), with: input, expectedVersion: version,
                                                    in: try context.requireTenant(), by: AuditActor(request, context))
            return JSONResponse.make(patient, etag: patient.etag)
        }
        routes.on("archivePatient") { request, context -> Response in
            let version = try IfMatch.version(of: request)
            let body = try await request.decodeIfPresent(as: ArchiveRequest.self, context: context)
            let patient = try await patients.archive(try context.parameters.require("id"), expectedVersion: version, reason: body?.reason,
                                                     in: try context.requireTenant(), by: AuditActor(request, context))
            return JSONResponse.make(patient, etag: patient.etag)
        }
        routes.on("patientAccessLog") { request, context -> Response in
            let scope = try context.requireTenant()
            var filter = AuditStore.Filter()
            filter.patientID = try context.parameters.require("id")
            let limit = try request.pageLimit(default: 50, maximum: 500)
            let events = try await patients.audit.events(in: scope, filter: filter, before: try request.sequenceCursor(), limit: limit)
            return try JSONResponse.make(ItemPage(events, nextCursor: events.count == limit ? events.last.map { String($0.seq) } : nil))
        }
        routes.on("listPractitioners") { request, context -> Response in
            let limit = try request.pageLimit(default: 50, maximum: 100)
            let page = try await scheduling.practitioners(after: try Self.cursor(request), limit: limit, in: try context.requireTenant())
            return try JSONResponse.make(ItemPage(page, nextCursor: page.count == limit ? page.last?.id : nil))
        }
        routes.on("addPractitioner") { request, context -> Response in
            let body = try await request.decode(as: NewPractitioner.self, context: context)
            let practitioner = try await scheduling.createPractitioner(name: body.name, specialty: body.specialty, licenceNumber: body.licenceNumber,
                                                                       email: body.email, in: try context.requireTenant(), by: AuditActor(request, context))
            return try JSONResponse.make(practitioner, status: .created)
        }
        routes.on("listAppointments") { request, context -> Response in
            let query = request.uri.queryParameters
            let limit = try request.pageLimit(default: 50, maximum: 100)
            let page = try await scheduling.appointments(
                practitionerID: query.get("practitioner_id"), patientID: query.get("patient_id"), status: query.get("status"),
                from: try Self.time(query.get("from"), field: "from"), to: try Self.time(query.get("to"), field: "to"),
                after: try Self.cursor(request), limit: limit, in: try context.requireTenant(), by: AuditActor(request, context)
            )
            return try JSONResponse.make(ItemPage(page, nextCursor: page.count == limit ? page.last?.id : nil))
        }
        routes.on("bookAppointment") { request, context -> Response in
            let body = try await request.decode(as: NewAppointment.self, context: context)
            var errors: [Problem.FieldError] = []
            let start = TextRules.rfc3339(body.start), end = TextRules.rfc3339(body.end)
            if start == nil { errors.append(.init(field: "start", message: "must be an RFC 3339 time")) }
            if end == nil { errors.append(.init(field: "end", message: "must be an RFC 3339 time")) }
            if !errors.isEmpty { throw ClinicalError.invalid(errors) }
            let appointment = try await scheduling.book(patientID: body.patientID, practitionerID: body.practitionerID, start: start!, end: end!,
                                                        reason: body.reason, in: try context.requireTenant(), by: AuditActor(request, context))
            return try JSONResponse.make(appointment, status: .created, etag: "\"\(appointment.version)\"")
        }
        routes.on("changeAppointmentStatus") { request, context -> Response in
            let version = try IfMatch.requiredVersion(of: request)
            let body = try await request.decode(as: StatusChange.self, context: context)
            let appointment = try await scheduling.setStatus(try context.parameters.require("id"), to: body.status, expectedVersion: version,
                                                             in: try context.requireTenant(), by: AuditActor(request, context))
            return try JSONResponse.make(appointment, etag: "\"\(appointment.version)\"")
        }
    }

    // MARK: Helpers

    static func cursor(_ request: Request) throws -> String? {
        guard let cursor = request.uri.queryParameters.get("cursor") else { return nil }
        guard cursor.count == 36, UUID(uuidString: cursor) != nil else { throw InvalidQuery(field: "cursor", message: "is not a cursor from this API") }
        return cursor.lowercased()
    }

    /// A query's RFC 3339 time, read as the edge checked it (`TextRules.rfc3339`).
    static func time(_ text: String?, field: String) throws -> Date? {
        guard let text else { return nil }
        guard let date = TextRules.rfc3339(text) else { throw InvalidQuery(field: field, message: "must be an RFC 3339 time") }
        return date
    }
}
