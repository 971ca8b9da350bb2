package import Foundation
import SQLKit
package import WardAudit
import WardCore
package import WardHTTP
package import OpenAPIKit
package import WardStorage

/// A practitioner: who patients are booked with.
package struct Practitioner: Codable, Sendable, Equatable, APIResponseBody {
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["created_at": .dateTime, "updated_at": .dateTime] }

    /// The rules of the fields a practitioner is added with.
    static let name = TextField.singleLine(max: 200)
    static let specialty = TextField.singleLine(max: 100)
    static let licenceNumber = TextField.singleLine(max: 64)

    package var id: String
    package var name: String
    package var specialty: String?
    package var licenceNumber: String?
    package var phone: String?
    package var email: String?
    package var userID: String?
    package var active: Int
    package var createdAt: String
    package var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case id, name, specialty, phone, email, active
        case licenceNumber = "licence_number", userID = "user_id", createdAt = "created_at", updatedAt = "updated_at"
    }
    static let columns = ["id", "name", "specialty", "licence_number", "phone", "email", "user_id", "active", "created_at", "updated_at"]
}

/// An appointment between a patient and a practitioner.
package struct Appointment: Codable, Sendable, Equatable, APIResponseBody {
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
        ["start_at": .dateTime, "end_at": .dateTime, "status": .enumeration(statuses), "created_at": .dateTime, "updated_at": .dateTime]
    }

    package var id: String
    package var patientID: String
    package var practitionerID: String
    package var start: String
    package var end: String
    package var status: String
    package var reason: String?
    package var version: Int
    package var createdBy: String?
    package var createdAt: String
    package var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case id, status, reason, version
        case patientID = "patient_id", practitionerID = "practitioner_id", start = "start_at", end = "end_at"
        case createdBy = "created_by", createdAt = "created_at", updatedAt = "updated_at"
    }
    static let columns = ["id", "patient_id", "practitioner_id", "start_at", "end_at", "status", "reason", "version", "created_by", "created_at", "updated_at"]
    static let columnList = SQLText.columns(columns)

    /// The FHIR appointment statuses Ward uses and the changes allowed between them.
    package static let transitions: [String: Set<String>] = [
        "proposed": ["booked", "cancelled"],
        "booked": ["arrived", "cancelled", "noshow"],
        "arrived": ["fulfilled", "cancelled"],
        "fulfilled": [], "cancelled": [], "noshow": [],
    ]
    /// The rule of a booking's reason.
    static let reason = TextField.freeText(max: 500)
    /// Every status, in the order of a visit.
    package static let statuses = ["proposed", "booked", "arrived", "fulfilled", "cancelled", "noshow"]
}

/// Practitioners and appointments. No practitioner is ever double-booked: the overlap check
/// and the insert run in one transaction that holds the practitioner's lock (SQLite's single
/// writer; a per-practitioner advisory lock on PostgreSQL).
package struct SchedulingService: Sendable {
    package let audit: AuditTrail
    /// Queues an appointment's confirmation and reminder; nil where nothing is sent.
    let mail: ClinicalMail?

    package init(audit: AuditTrail, mail: ClinicalMail? = nil) {
        self.audit = audit
        self.mail = mail
    }

    package func createPractitioner(name: String, specialty: String?, licenceNumber: String?, email: String?, in scope: TenantScope, by actor: AuditActor) async throws -> Practitioner {
        var errors: [Problem.FieldError] = []
        Practitioner.name.check(name, "name", into: &errors)
        Practitioner.specialty.check(specialty, "specialty", into: &errors)
        Practitioner.licenceNumber.check(licenceNumber, "licence_number", into: &errors)
        if let email, !TextRules.isEmail(email) {
            errors.append(.init(field: "email", message: "must be an email address"))
        }
        if !errors.isEmpty { throw ClinicalError.invalid(errors) }
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        let now = Timestamp.now()
        let practitioner = Practitioner(id: UUIDv7.id(), name: trimmed, specialty: specialty, licenceNumber: licenceNumber,
                                        phone: nil, email: email, userID: nil, active: 1, createdAt: now, updatedAt: now)
        let table = try scope.table("practitioners")
        let audit = self.audit
        try await scope.transaction { database in
            try await database.insert(into: table).model(practitioner).run()
            try await audit.append(actor.record("create", resourceType: "practitioner", resourceID: practitioner.id), in: database, scope: scope)
        }
        return practitioner
    }

    package func practitioners(after cursor: String?, limit: Int, in scope: TenantScope) async throws -> [Practitioner] {
        let table = try scope.table("practitioners")
        return try await scope.read { database in
            var query = database.select().columns(Practitioner.columns).from(table).where("active", .equal, 1)
            if let cursor { query = query.where("id", .greaterThan, cursor) }
            return try await query.orderBy("id").limit(limit).all(decoding: Practitioner.self)
        }
    }

    /// Books an appointment, refusing one that overlaps a booked or arrived appointment of the
    /// same practitioner with `doubleBooked` naming it.
    package func book(patientID: String, practitionerID: String, start: Date, end: Date, reason: String?, in scope: TenantScope, by actor: AuditActor) async throws -> Appointment {
        var errors: [Problem.FieldError] = []
        if end <= start { errors.append(.init(field: "end", message: "must be after start")) }
        if end.timeIntervalSince(start) > 24 * 3600 { errors.append(.init(field: "end", message: "must be within 24 hours of start")) }
        Appointment.reason.check(reason, "reason", into: &errors)
        for (field, id) in [("patient_id", patientID), ("practitioner_id", practitionerID)] {
            if let message = ParameterFormat.uuid.problem(with: id) { errors.append(.init(field: field, message: message)) }
        }
        if !errors.isEmpty { throw ClinicalError.invalid(errors) }
        let now = Timestamp.now()
        let appointment = Appointment(
            id: UUIDv7.id(), patientID: patientID, practitionerID: practitionerID, start: Timestamp.text(start),
            end: Timestamp.text(end), status: "booked", reason: reason, version: 1, createdBy: actor.id, createdAt: now, updatedAt: now
        )
        // Statements as text: booking is a hot path (see SQLText).
        let appointments = try scope.tableName("appointments"), patients = try scope.tableName("patients")
        let practitioners = try scope.tableName("practitioners")
        let audit = self.audit
        let hasEmail = try await scope.transaction { database in
            if scope.database.dialect == .postgres, let schema = scope.schema {
                _ = try await database.reusedRows(SQLQueryString("SELECT pg_advisory_xact_lock(hashtext(\(bind: "ward.booking." + schema + "." + practitionerID)))"))
            }
            guard let patient = try await database.reusedRows(SQLQueryString(
                "SELECT \"id\", \"email\" FROM \(unsafeRaw: patients) WHERE \"id\" = \(bind: patientID) AND \"status\" = 'active'")).first else {
                throw ClinicalError.invalid([.init(field: "patient_id", message: "names no active patient of this tenant")])
            }
            guard try await !database.reusedRows(SQLQueryString("SELECT \"id\" FROM \(unsafeRaw: practitioners) WHERE \"id\" = \(bind: practitionerID) AND \"active\" = 1"))
                .isEmpty else {
                throw ClinicalError.invalid([.init(field: "practitioner_id", message: "names no active practitioner of this tenant")])
            }
            if let clash = try await database.reusedRows(SQLQueryString("""
                SELECT "id" FROM \(unsafeRaw: appointments) WHERE "practitioner_id" = \(bind: practitionerID)
                AND "status" IN ('booked', 'arrived') AND "start_at" < \(bind: appointment.end) AND "end_at" > \(bind: appointment.start)
                LIMIT 1
                """)).first {
                throw ClinicalError.doubleBooked(appointmentID: try clash.decode(column: "id", as: String.self))
            }
            _ = try await database.reusedRows(SQLQueryString("""
                INSERT INTO \(unsafeRaw: appointments) (\(unsafeRaw: Appointment.columnList)) VALUES (\(binds: [
                    appointment.id, appointment.patientID, appointment.practitionerID, appointment.start, appointment.end, appointment.status,
                    appointment.reason, appointment.version, appointment.createdBy, appointment.createdAt, appointment.updatedAt,
                ]))
                """))
            try await audit.append(actor.record("create", resourceType: "appointment", resourceID: appointment.id, patientID: patientID),
                                   in: database, scope: scope)
            return try patient.decode(column: "email", as: String?.self) != nil
        }
        // Only patients with an address get a confirmation; booking stays one transaction otherwise.
        if hasEmail, let mail { try await mail.appointmentBooked(appointment, in: scope, now: Date()) }
        return appointment
    }

    /// Appointments filtered by practitioner, patient, status and time range, in start order.
    package func appointments(practitionerID: String?, patientID: String?, status: String?, from: Date?, to: Date?, after cursor: String?,
                              limit: Int, in scope: TenantScope, by actor: AuditActor) async throws -> [Appointment] {
        let table = try scope.table("appointments")
        let page = try await scope.read { database in
            var query = database.select().columns(Appointment.columns).from(table)
            if let practitionerID { query = query.where("practitioner_id", .equal, practitionerID) }
            if let patientID { query = query.where("patient_id", .equal, patientID) }
            if let status { query = query.where("status", .equal, status) }
            if let from { query = query.where("end_at", .greaterThan, Timestamp.text(from)) }
            if let to { query = query.where("start_at", .lessThan, Timestamp.text(to)) }
            if let cursor { query = query.where("id", .greaterThan, cursor) }
            return try await query.orderBy("id").limit(limit).all(decoding: Appointment.self)
        }
        try await audit.recordRead(actor.record("search", resourceType: "appointment", patientID: patientID, details: ["returned": String(page.count)]), in: scope)
        return page
    }

    /// Moves an appointment to `status` if the transition is allowed and the version matches.
    package func setStatus(_ id: String, to status: String, expectedVersion: Int, in scope: TenantScope, by actor: AuditActor) async throws -> Appointment {
        guard Appointment.transitions[status] != nil else {
            throw ClinicalError.invalid([.init(field: "status", message: "must be one of proposed, booked, arrived, fulfilled, cancelled, noshow")])
        }
        let table = try scope.table("appointments")
        let audit = self.audit
        return try await scope.transaction { database in
            guard var appointment = try await database.select().columns(Appointment.columns).from(table).where("id", .equal, id).first(decoding: Appointment.self) else {
                throw ClinicalError.notFound("appointment")
            }
            guard appointment.version == expectedVersion else { throw ClinicalError.versionMismatch(current: appointment.version) }
            guard Appointment.transitions[appointment.status]?.contains(status) == true else {
                throw ClinicalError.invalidTransition(from: appointment.status, to: status)
            }
            let previous = appointment.status
            appointment.status = status
            appointment.version += 1
            appointment.updatedAt = Timestamp.now()
            try await database.update(table).set(model: appointment).where("id", .equal, id).where("version", .equal, expectedVersion).run()
            try await audit.append(actor.record("update", resourceType: "appointment", resourceID: id, patientID: appointment.patientID,
                                                details: ["from": previous, "to": status]), in: database, scope: scope)
            return appointment
        }
    }
}
