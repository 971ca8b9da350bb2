import Foundation
import SQLKit
package import WardAudit
import WardCore
package import WardHTTP
package import OpenAPIKit
package import WardStorage

/// An entry of the tenant's formulary.
package struct Medication: Codable, Sendable, Equatable, APIResponseBody {
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["created_at": .dateTime] }

    package var id: String
    package var code: String
    package var name: String
    package var form: String
    package var strength: String
    package var active: Int
    package var createdAt: String

    enum CodingKeys: String, CodingKey { case id, code, name, form, strength, active, createdAt = "created_at" }
    static let columns = ["id", "code", "name", "form", "strength", "active", "created_at"]
}

/// One line of a prescription.
package struct PrescriptionItem: Codable, Sendable, Equatable, APIResponseBody {
    package var medicationID: String
    package var dose: String
    package var route: String
    package var frequency: String
    package var durationDays: Int
    package var quantity: Int
    package var instructions: String?

    enum CodingKeys: String, CodingKey {
        case dose, route, frequency, quantity, instructions
        case medicationID = "medication_id", durationDays = "duration_days"
    }

    package init(medicationID: String, dose: String, route: String, frequency: String, durationDays: Int, quantity: Int, instructions: String?) {
        self.medicationID = medicationID
        self.dose = dose
        self.route = route
        self.frequency = frequency
        self.durationDays = durationDays
        self.quantity = quantity
        self.instructions = instructions
    }
}

/// A prescription: a prescriber's order of one or more medications for a patient.
package struct Prescription: Codable, Sendable, Equatable, APIResponseBody {
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
        ["status": .enumeration(["active", "completed", "cancelled"]), "issued_at": .dateTime]
    }

    package var id: String
    package var patientID: String
    package var prescriberID: String
    package var prescriberName: String?
    package var status: String
    package var issuedAt: String
    package var items: [PrescriptionItem]
    package var version: Int

    enum CodingKeys: String, CodingKey {
        case id, status, items, version
        case patientID = "patient_id", prescriberID = "prescriber_id", prescriberName = "prescriber_name", issuedAt = "issued_at"
    }
}

/// The formulary and prescriptions. Medications are searched like patient names (one edit per
/// word); prescriptions move active → completed or cancelled.
package struct PrescribingService: Sendable {
    package let audit: AuditTrail
    /// Queues the prescription's email to the patient; nil where nothing is sent (tools, tests).
    let mail: ClinicalMail?

    package init(audit: AuditTrail, mail: ClinicalMail? = nil) {
        self.audit = audit
        self.mail = mail
    }

    /// A starter formulary every tenant can load (common WHO essential medicines).
    package static let starterFormulary: [(code: String, name: String, form: String, strength: String)] = [
        ("PARA500", "Paracetamol", "tablet", "500 mg"), ("IBU400", "Ibuprofen", "tablet", "400 mg"),
        ("AMOX500", "Amoxicillin", "capsule", "500 mg"), ("METF500", "Metformin", "tablet", "500 mg"),
        ("AMLO5", "Amlodipine", "tablet", "5 mg"), ("ATOR20", "Atorvastatin", "tablet", "20 mg"),
        ("OMEP20", "Omeprazole", "capsule", "20 mg"), ("SALB100", "Salbutamol", "inhaler", "100 mcg/dose"),
        ("LISI10", "Lisinopril", "tablet", "10 mg"), ("LEVO50", "Levothyroxine", "tablet", "50 mcg"),
        ("AZIT250", "Azithromycin", "tablet", "250 mg"), ("PRED5", "Prednisolone", "tablet", "5 mg"),
        ("FURO40", "Furosemide", "tablet", "40 mg"), ("WARF5", "Warfarin", "tablet", "5 mg"),
        ("INSG100", "Insulin glargine", "injection", "100 units/ml"), ("CETI10", "Cetirizine", "tablet", "10 mg"),
        ("DOXY100", "Doxycycline", "capsule", "100 mg"), ("CLOP75", "Clopidogrel", "tablet", "75 mg"),
        ("SERT50", "Sertraline", "tablet", "50 mg"), ("ORS", "Oral rehydration salts", "powder", "20.5 g/L"),
    ]

    /// The rules of the formulary's and the prescriptions' text fields.
    static let codePattern = #"^[A-Za-z0-9-]{1,32}$"#
    static let medicationText = TextField.singleLine(max: 200)
    static let itemText = TextField.singleLine(max: 100)
    static let instructions = TextField.freeText(max: 1000)

    /// Adds a medication to the formulary.
    package func addMedication(code: String, name: String, form: String, strength: String, in scope: TenantScope, by actor: AuditActor) async throws -> Medication {
        var errors: [Problem.FieldError] = []
        if !TextRules.matches(code, Self.codePattern) { errors.append(.init(field: "code", message: "must be 1 to 32 letters, digits or hyphens")) }
        for (field, value) in [("name", name), ("form", form), ("strength", strength)] {
            Self.medicationText.check(value, field, into: &errors)
        }
        if !errors.isEmpty { throw ClinicalError.invalid(errors) }
        let medication = Medication(id: UUIDv7.id(), code: code.uppercased(), name: name, form: form, strength: strength,
                                    active: 1, createdAt: Timestamp.now())
        let table = try scope.table("medications")
        let audit = self.audit
        try await scope.transaction { database in
            if try await database.select().column("id").from(table).where("code", .equal, medication.code).first() != nil {
                throw ClinicalError.medicationCodeTaken
            }
            try await database.insert(into: table).model(medication).run()
            try await audit.append(actor.record("create", resourceType: "medication", resourceID: medication.id), in: database, scope: scope)
        }
        return medication
    }

    /// Loads the starter formulary in one transaction, skipping codes already present (so a
    /// provisioning step run twice adds nothing the second time); returns how many it added.
    @discardableResult
    package func loadStarterFormulary(in scope: TenantScope, by actor: AuditActor) async throws -> Int {
        let table = try scope.table("medications")
        let audit = self.audit
        return try await scope.transaction { database in
            let present = Set(try await database.select().column("code").from(table).all().map { try $0.decode(column: "code", as: String.self) })
            let missing = Self.starterFormulary.filter { !present.contains($0.code) }
            guard !missing.isEmpty else { return 0 }
            let now = Timestamp.now()
            let insert = database.insert(into: table).columns(Medication.columns)
            for entry in missing {
                let medication = Medication(id: UUIDv7.id(), code: entry.code, name: entry.name, form: entry.form,
                                            strength: entry.strength, active: 1, createdAt: now)
                insert.values([SQLBind(medication.id), SQLBind(medication.code), SQLBind(medication.name), SQLBind(medication.form),
                               SQLBind(medication.strength), SQLBind(medication.active), SQLBind(medication.createdAt)])
            }
            try await insert.run()
            try await audit.append(actor.record("formulary_loaded", resourceType: "medication", details: ["added": String(missing.count)]),
                                   in: database, scope: scope)
            return missing.count
        }
    }

    /// Active medications matching `query` by code exactly or by name within one edit per
    /// word; all active medications by name when `query` is nil.
    package func medications(matching query: String?, limit: Int, in scope: TenantScope) async throws -> [Medication] {
        let table = try scope.table("medications")
        let all = try await scope.read { database in
            try await database.select().columns(Medication.columns).from(table).where("active", .equal, 1).orderBy("name").limit(5000)
                .all(decoding: Medication.self)
        }
        guard let query, !query.trimmingCharacters(in: .whitespaces).isEmpty else { return Array(all.prefix(limit)) }
        let tokens = PatientSearch.tokens(query)
        // A formulary is small (hundreds of entries): ranking in memory keeps both databases
        // answering alike without a second index.
        return all.compactMap { medication -> (Int, Medication)? in
            if medication.code == query.uppercased() { return (-1, medication) }
            return PatientSearch.score(query: tokens, givenName: medication.name, familyName: "").map { ($0, medication) }
        }.sorted { ($0.0, $0.1.name) < ($1.0, $1.1.name) }.prefix(limit).map { $0.1 }
    }

    /// Issues a prescription for an active patient; every item must name an active medication.
    package func prescribe(patientID: String, items: [PrescriptionItem], in scope: TenantScope, by actor: AuditActor) async throws -> Prescription {
        var errors: [Problem.FieldError] = []
        if let message = ParameterFormat.uuid.problem(with: patientID) { errors.append(.init(field: "patient_id", message: message)) }
        if items.isEmpty || items.count > 20 { errors.append(.init(field: "items", message: "must hold 1 to 20 medications")) }
        for (index, item) in items.enumerated() {
            if let message = ParameterFormat.uuid.problem(with: item.medicationID) { errors.append(.init(field: "items[\(index)].medication_id", message: message)) }
            for (name, value) in [("dose", item.dose), ("route", item.route), ("frequency", item.frequency)] {
                Self.itemText.check(value, "items[\(index)].\(name)", into: &errors)
            }
            if !(1...365).contains(item.durationDays) { errors.append(.init(field: "items[\(index)].duration_days", message: "must be 1 to 365")) }
            if !(1...10_000).contains(item.quantity) { errors.append(.init(field: "items[\(index)].quantity", message: "must be 1 to 10000")) }
            Self.instructions.check(item.instructions, "items[\(index)].instructions", into: &errors)
        }
        if !errors.isEmpty { throw ClinicalError.invalid(errors) }
        guard let prescriberID = actor.id else { throw ClinicalError.invalid([.init(field: "prescriber", message: "must be a signed-in user")]) }
        let prescription = Prescription(id: UUIDv7.id(), patientID: patientID, prescriberID: prescriberID,
                                        prescriberName: actor.name, status: "active", issuedAt: Timestamp.now(), items: items, version: 1)
        let prescriptions = try scope.table("prescriptions"), patients = try scope.table("patients"), medications = try scope.table("medications")
        let audit = self.audit
        let itemsJSON = String(decoding: try JSONEncoder().encode(items), as: UTF8.self)
        let hasEmail = try await scope.transaction { database in
            guard let patient = try await database.select().columns("id", "email").from(patients).where("id", .equal, patientID)
                .where("status", .equal, "active").first() else {
                throw ClinicalError.invalid([.init(field: "patient_id", message: "names no active patient of this tenant")])
            }
            let known = Set(try await database.select().column("id").from(medications).where("id", .in, SQLBind.group(items.map(\.medicationID)))
                .where("active", .equal, 1).all().map { try $0.decode(column: "id", as: String.self) })
            for (index, item) in items.enumerated() where !known.contains(item.medicationID) {
                throw ClinicalError.invalid([.init(field: "items[\(index)].medication_id", message: "names no active medication of the formulary")])
            }
            try await database.insert(into: prescriptions)
                .columns("id", "patient_id", "prescriber_id", "prescriber_name", "status", "issued_at", "items", "version")
                .values(SQLBind(prescription.id), SQLBind(patientID), SQLBind(prescriberID), SQLBind(actor.name), SQLBind("active"),
                        SQLBind(prescription.issuedAt), SQLBind(itemsJSON), SQLBind(1))
                .run()
            try await audit.append(actor.record("create", resourceType: "prescription", resourceID: prescription.id, patientID: patientID,
                                                details: ["items": String(items.count)]), in: database, scope: scope)
            return try patient.decode(column: "email", as: String?.self) != nil
        }
        // After the commit: the email job never sends a prescription that was rolled back. A
        // crash in between loses the email, never the prescription (the PDF can be sent again).
        if hasEmail, let mail { try await mail.prescriptionIssued(prescription.id, in: scope) }
        return prescription
    }

    /// A patient's prescriptions, newest first; audited as a read of the patient's data.
    package func prescriptions(of patientID: String, in scope: TenantScope, by actor: AuditActor) async throws -> [Prescription] {
        let table = try scope.table("prescriptions")
        let rows = try await scope.read { database in
            try await database.select().columns("id", "patient_id", "prescriber_id", "prescriber_name", "status", "issued_at", "items", "version")
                .from(table).where("patient_id", .equal, patientID).orderBy("issued_at", .descending).limit(500).all()
        }
        let found = try rows.map(Self.prescription(from:))
        try await audit.recordRead(actor.record("read", resourceType: "prescription", patientID: patientID, details: ["returned": String(found.count)]), in: scope)
        return found
    }

    /// Completes or cancels an active prescription (If-Match version).
    package func setStatus(_ id: String, to status: String, expectedVersion: Int, in scope: TenantScope, by actor: AuditActor) async throws -> Prescription {
        guard ["completed", "cancelled"].contains(status) else {
            throw ClinicalError.invalid([.init(field: "status", message: "must be completed or cancelled")])
        }
        let table = try scope.table("prescriptions")
        let audit = self.audit
        return try await scope.transaction { database in
            guard let row = try await database.select().columns("id", "patient_id", "prescriber_id", "prescriber_name", "status", "issued_at", "items", "version")
                .from(table).where("id", .equal, id).first() else { throw ClinicalError.notFound("prescription") }
            var prescription = try Self.prescription(from: row)
            guard prescription.version == expectedVersion else { throw ClinicalError.versionMismatch(current: prescription.version) }
            guard prescription.status == "active" else { throw ClinicalError.invalidTransition(from: prescription.status, to: status) }
            prescription.status = status
            prescription.version += 1
            try await database.update(table).set("status", to: status).set("version", to: prescription.version)
                .where("id", .equal, id).where("version", .equal, expectedVersion).run()
            try await audit.append(actor.record("update", resourceType: "prescription", resourceID: id, patientID: prescription.patientID,
                                                details: ["to": status]), in: database, scope: scope)
            return prescription
        }
    }

    static func prescription(from row: any SQLRow) throws -> Prescription {
        let items = try JSONDecoder().decode([PrescriptionItem].self, from: Data(try row.decode(column: "items", as: String.self).utf8))
        return Prescription(
            id: try row.decode(column: "id", as: String.self), patientID: try row.decode(column: "patient_id", as: String.self),
            prescriberID: try row.decode(column: "prescriber_id", as: String.self), prescriberName: try row.decode(column: "prescriber_name", as: String?.self),
            status: try row.decode(column: "status", as: String.self), issuedAt: try row.decode(column: "issued_at", as: String.self),
            items: items, version: try row.decode(column: "version", as: Int.self)
        )
    }
}
