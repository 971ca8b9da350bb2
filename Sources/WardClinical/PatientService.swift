import Foundation
import SQLKit
package import WardAudit
import WardCore
import WardHTTP
package import WardStorage

/// Patients: registration, reads, search, updates with optimistic concurrency, archiving.
/// Every access is audited: changes in their own transaction, reads and searches through the
/// group-commit writer before the caller sees the data.
package struct PatientService: Sendable {
    package let audit: AuditTrail
    /// Seals the identifying fields and answers exact searches through blind indexes.
    package let protection: PatientProtection

    package init(audit: AuditTrail, protection: PatientProtection) {
        self.audit = audit
        self.protection = protection
    }

    // MARK: Registration and change

    /// Registers a patient; an MRN is generated (with a check digit) when none is given.
    package func create(_ input: PatientInput, in scope: TenantScope, by actor: AuditActor) async throws -> Patient {
        let errors = input.problems(creating: true)
        if !errors.isEmpty { throw ClinicalError.invalid(errors) }
        let now = Timestamp.now()
        let metadata = try Self.json(input.metadata ?? [:])
        let patient = Patient(
            id: UUIDv7.id(), mrn: input.mrn ?? "",
            givenName: input.givenName!.trimmingCharacters(in: .whitespaces), familyName: input.familyName!.trimmingCharacters(in: .whitespaces),
            birthDate: input.birthDate, sex: input.sex, phone: input.phone, email: input.email?.lowercased(), address: input.address,
            nationalID: input.nationalID, emergencyContact: input.emergencyContact, emailReminders: input.emailReminders ?? true,
            metadata: metadata, status: "active", version: 1,
            createdBy: actor.id, createdAt: now, updatedBy: actor.id, updatedAt: now
        )
        let patients = try scope.table("patients")
        let audit = self.audit
        let keys = try await protection.keys(for: scope.tenant.id)
        return try await scope.transaction { [patient] database in
            var patient = patient
            if input.mrn == nil {
                patient.mrn = MedicalRecordNumber.make(try await Self.reserveNumbers(1, in: database, scope: scope))
            } else if try await database.select().column("id").from(patients).where("mrn", .equal, patient.mrn).first() != nil {
                throw ClinicalError.mrnTaken
            }
            try await database.insert(into: patients).model(try StoredPatient(patient, keys: keys)).run()
            try await Self.index(patient, in: database, scope: scope)
            try await audit.append(actor.record("create", resourceType: "patient", resourceID: patient.id, patientID: patient.id), in: database, scope: scope)
            return patient
        }
    }

    /// Reserves `count` consecutive record numbers in the caller's transaction; returns the first.
    static func reserveNumbers(_ count: Int, in database: any SQLDatabase, scope: TenantScope) async throws -> Int {
        let counters = try scope.table("clinical_counters")
        try await database.raw("UPDATE \(counters) SET value = value + \(bind: count) WHERE name = 'mrn'").run()
        let row = try await database.select().column("value").from(counters).where("name", .equal, "mrn").first()
        return try (row?.decode(column: "value", as: Int.self) ?? count) - count + 1
    }

    /// Applies `input` to version `expectedVersion` of the patient; 412 when it moved on.
    package func update(_ id: String, with input: PatientInput, expectedVersion: Int, in scope: TenantScope, by actor: AuditActor) async throws -> Patient {
        let errors = input.problems(creating: false)
        if !errors.isEmpty { throw ClinicalError.invalid(errors) }
        let patients = try scope.table("patients")
        let audit = self.audit
        let keys = try await protection.keys(for: scope.tenant.id)
        return try await scope.transaction { database in
            guard let stored = try await database.select().columns(Patient.columns).from(patients).where("id", .equal, id).first(decoding: Patient.self) else {
                throw ClinicalError.notFound("patient")
            }
            var patient = try keys.opened(stored)
            guard patient.version == expectedVersion else { throw ClinicalError.versionMismatch(current: patient.version) }
            guard patient.status == "active" else { throw ClinicalError.archived }
            var changed: [String] = []
            func apply(_ value: String?, _ keyPath: WritableKeyPath<Patient, String?>, _ name: String) {
                if let value, patient[keyPath: keyPath] != value { patient[keyPath: keyPath] = value; changed.append(name) }
            }
            if let mrn = input.mrn, mrn != patient.mrn {
                if try await database.select().column("id").from(patients).where("mrn", .equal, mrn).first() != nil { throw ClinicalError.mrnTaken }
                patient.mrn = mrn
                changed.append("mrn")
            }
            if let value = input.givenName?.trimmingCharacters(in: .whitespaces), value != patient.givenName { patient.givenName = value; changed.append("given_name") }
            if let value = input.familyName?.trimmingCharacters(in: .whitespaces), value != patient.familyName { patient.familyName = value; changed.append("family_name") }
            apply(input.birthDate, \.birthDate, "birth_date")
            apply(input.sex, \.sex, "sex")
            apply(input.phone, \.phone, "phone")
            apply(input.email?.lowercased(), \.email, "email")
            apply(input.address, \.address, "address")
            apply(input.nationalID, \.nationalID, "national_id")
            apply(input.emergencyContact, \.emergencyContact, "emergency_contact")
            if let value = input.emailReminders, value != patient.emailReminders { patient.emailReminders = value; changed.append("email_reminders") }
            if let metadata = input.metadata { patient.metadata = try Self.json(metadata); changed.append("metadata") }
            guard !changed.isEmpty else { return patient }
            patient.version += 1
            patient.updatedBy = actor.id
            patient.updatedAt = Timestamp.now()
            // The version check in the statement guards a writer that raced past the read.
            try await database.update(patients).set(model: try StoredPatient(patient, keys: keys)).where("id", .equal, id)
                .where("version", .equal, expectedVersion).run()
            if changed.contains("given_name") || changed.contains("family_name") { try await Self.index(patient, in: database, scope: scope) }
            try await audit.append(actor.record("update", resourceType: "patient", resourceID: id, patientID: id,
                                                details: ["fields": changed.joined(separator: ","), "version": String(patient.version)]),
                                   in: database, scope: scope)
            return patient
        }
    }

    /// The rule of an archiving's stated reason.
    static let archiveReason = TextField.freeText(max: 500)

    /// Archives a patient: the record stays, out of lists and searches.
    package func archive(_ id: String, expectedVersion: Int?, reason: String?, in scope: TenantScope, by actor: AuditActor) async throws -> Patient {
        var errors: [Problem.FieldError] = []
        Self.archiveReason.check(reason, "reason", into: &errors)
        if !errors.isEmpty { throw ClinicalError.invalid(errors) }
        let patients = try scope.table("patients")
        let audit = self.audit
        let keys = try await protection.keys(for: scope.tenant.id)
        return try await scope.transaction { database in
            guard let stored = try await database.select().columns(Patient.columns).from(patients).where("id", .equal, id).first(decoding: Patient.self) else {
                throw ClinicalError.notFound("patient")
            }
            var patient = try keys.opened(stored)
            if let expectedVersion, patient.version != expectedVersion { throw ClinicalError.versionMismatch(current: patient.version) }
            guard patient.status == "active" else { return patient }
            patient.status = "archived"
            patient.version += 1
            patient.updatedBy = actor.id
            patient.updatedAt = Timestamp.now()
            try await database.update(patients).set(model: try StoredPatient(patient, keys: keys)).where("id", .equal, id).run()
            try await Self.index(patient, in: database, scope: scope)
            try await audit.append(actor.record("archive", resourceType: "patient", resourceID: id, patientID: id, reason: reason), in: database, scope: scope)
            return patient
        }
    }

    // MARK: Reads

    /// One patient, audited as a read before it is returned.
    package func read(_ id: String, in scope: TenantScope, by actor: AuditActor, breakGlassGrant: String? = nil) async throws -> Patient {
        let patients = try scope.tableName("patients")
        let keys = try await protection.keys(for: scope.tenant.id)
        let found = try await scope.read { database in
            try await database.reusedRows(SQLQueryString("SELECT \(unsafeRaw: Patient.columnList) FROM \(unsafeRaw: patients) WHERE \"id\" = \(bind: id)"))
                .first.map { try keys.opened(try Patient(row: $0)) }
        }
        guard let found else {
            try await audit.recordRead(actor.record("read", resourceType: "patient", resourceID: id, patientID: id, outcome: .error, reason: "not found"), in: scope)
            throw ClinicalError.notFound("patient")
        }
        try await audit.recordRead(actor.record("read", resourceType: "patient", resourceID: id, patientID: id,
                                                reason: breakGlassGrant == nil ? nil : "break-glass",
                                                details: breakGlassGrant.map { ["break_glass_grant": $0] } ?? [:]), in: scope)
        return found
    }

    /// A page of active patients in id order (creation order), after `cursor`.
    package func list(after cursor: String?, limit: Int, in scope: TenantScope, by actor: AuditActor) async throws -> [Patient] {
        let patients = try scope.tableName("patients")
        let keys = try await protection.keys(for: scope.tenant.id)
        let page = try await scope.read { database in
            var query = SQLQueryString("SELECT \(unsafeRaw: Patient.columnList) FROM \(unsafeRaw: patients) WHERE \"status\" = 'active'")
            if let cursor { query.appendInterpolation(unsafeRaw: " AND \"id\" > "); query.appendInterpolation(bind: cursor) }
            query.appendInterpolation(unsafeRaw: " ORDER BY \"id\" LIMIT ")
            query.appendInterpolation(literal: limit)
            return try await database.raw(query).all().map { try keys.opened(try Patient(row: $0)) }
        }
        try await audit.recordRead(actor.record("search", resourceType: "patient", details: ["kind": "list", "returned": String(page.count)]), in: scope)
        return page
    }

    /// The display names ("Family, Given") of patients `ids`, as a list of appointments shows
    /// them: one read, audited as one event naming how many were shown.
    package func names(of ids: Set<String>, in scope: TenantScope, by actor: AuditActor) async throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        let patients = try scope.tableName("patients")
        let names = try await scope.read { database in
            try await database.raw("SELECT \"id\", \"given_name\", \"family_name\" FROM \(unsafeRaw: patients) WHERE \"id\" IN (\(binds: Array(ids)))")
                .all().map { row in
                    (try row.decode(column: "id", as: String.self),
                     try row.decode(column: "family_name", as: String.self) + ", " + row.decode(column: "given_name", as: String.self))
                }
        }
        try await audit.recordRead(actor.record("search", resourceType: "patient", details: ["kind": "names", "returned": String(names.count)]), in: scope)
        return Dictionary(names, uniquingKeysWith: { first, _ in first })
    }

    /// Patients matching `text`: exact MRN, phone, email or birth date, and names within one
    /// edit per token, best first, disclosing `fields`.
    package func search(_ text: String, limit: Int, disclosing fields: Patient.Disclosure = .all, in scope: TenantScope, by actor: AuditActor) async throws -> [Patient] {
        let query = text.trimmingCharacters(in: .whitespaces)
        let tokens = Array(PatientSearch.tokens(query).prefix(4))
        let patients = try scope.tableName("patients"), termTable = try scope.tableName("patient_search_terms")
        let phone = query.filter { $0.isNumber || $0 == "+" }
        let exactClause = ClinicalDates.date(query) != nil
        let keys = try await protection.keys(for: scope.tenant.id)
        let ranked = try await scope.read { database -> [Patient] in
            // Exact identifiers first: MRN, then the blind indexes of email, phone, national id
            // and birth date — each its own index lookup, asked only when the text could be one
            // (an OR across columns would scan the table).
            var lookups: [(String, String)] = []
            let identifier = query.range(of: #"^[A-Za-z0-9-]{1,32}$"#, options: .regularExpression) != nil
            if identifier { lookups.append(("mrn", query)) }
            if query.contains("@"), let index = keys.index(query, column: "email") { lookups.append(("email_index", index)) }
            if phone.count >= 5, let index = keys.index(query, column: "phone") { lookups.append(("phone_index", index)) }
            // National ids carry digits; a name never asks.
            if identifier || query.contains(" "), query.count <= 40, query.contains(where: \.isNumber), let index = keys.index(query, column: "national_id") {
                lookups.append(("national_id_index", index))
            }
            if exactClause, let index = keys.index(query, column: "birth_date") { lookups.append(("birth_date_index", index)) }
            var results: [Patient] = []
            for (column, value) in lookups where results.count < limit {
                let matches = try await database.raw("""
                    SELECT \(unsafeRaw: Patient.columnList) FROM \(unsafeRaw: patients)
                    WHERE \(ident: column) = \(bind: value) AND "status" = 'active'
                    ORDER BY "family_name", "given_name", "id" LIMIT \(literal: limit)
                    """).all().map { try keys.opened(try Patient(row: $0), fields: fields) }
                for patient in matches where !results.contains(where: { $0.id == patient.id }) { results.append(patient) }
            }
            guard let firstToken = tokens.first, results.count < limit else { return results }

            // Names: candidates share a term with the first word (itself, then its one-deletion
            // variants); only ids and names are read until the page is chosen. Many patients
            // share a name, and a name found by several variants comes back once per variant:
            // each distinct name is scored once.
            var scores: [NamePair: Int?] = [:]
            func candidates(_ terms: [String]) async throws -> [(id: String, score: Int, family: String, given: String)] {
                var found: [(id: String, score: Int, family: String, given: String)] = []
                guard !terms.isEmpty else { return found }
                // One index range per term, each already in name order, all in one statement (one
                // round trip to PostgreSQL instead of one per variant). The term is cast: SQLite
                // (3.54) otherwise plans `term = ?` under this ORDER BY for the value bound, and
                // prepared the statement again on every search (4% of the search page's time).
                var query = SQLQueryString("")
                for (index, term) in terms.enumerated() {
                    query.appendLiteral(index == 0 ? "SELECT * FROM (" : " UNION ALL SELECT * FROM (")
                    query.appendInterpolation(unsafeRaw: "SELECT \"patient_id\", \"given_name\", \"family_name\" FROM \(termTable) WHERE \"term\" = CAST(")
                    query.appendInterpolation(bind: term)
                    query.appendInterpolation(unsafeRaw: " AS TEXT) ORDER BY \"family_name\", \"given_name\", \"patient_id\" LIMIT \(Self.candidateLimit)) AS v\(index)")
                }
                for row in try await database.raw(query).all() {
                    let given = try row.decode(column: "given_name", as: String.self), family = try row.decode(column: "family_name", as: String.self)
                    let pair = NamePair(given: given, family: family)
                    // `.some(nil)` remembers a name that does not match.
                    if scores[pair] == nil { scores[pair] = .some(PatientSearch.score(query: tokens, givenName: given, familyName: family)) }
                    guard let score = scores[pair] ?? nil else { continue }
                    found.append((try row.decode(column: "patient_id", as: String.self), score, family, given))
                }
                return found
            }
            var chosen = try await candidates([firstToken])
            if chosen.filter({ $0.score == 0 }).count < limit {
                chosen += try await candidates(Array(PatientSearch.variants(firstToken).subtracting([firstToken])))
            }
            var seen = Set(results.map(\.id))
            let best = chosen.sorted { lhs, rhs in
                (lhs.score, lhs.family, lhs.given, lhs.id) < (rhs.score, rhs.family, rhs.given, rhs.id)
            }.filter { seen.insert($0.id).inserted }.prefix(limit - results.count).map(\.id)
            guard !best.isEmpty else { return results }
            let rows = try await database.raw("SELECT \(unsafeRaw: Patient.columnList) FROM \(unsafeRaw: patients) WHERE \"id\" IN (\(binds: Array(best)))")
                .all().map { try keys.opened(try Patient(row: $0), fields: fields) }
            let byID = Dictionary(uniqueKeysWithValues: rows.map { ($0.id, $0) })
            results += best.compactMap { byID[$0] }
            return results
        }
        // The query text may itself be identifying: the event keeps its length, not its value.
        try await audit.recordRead(actor.record("search", resourceType: "patient",
                                            details: ["kind": "query", "query_length": String(query.count), "returned": String(ranked.count)]), in: scope)
        return Array(ranked)
    }

    /// Name candidates one search reads per phase (only ids and names).
    static let candidateLimit = 100

    /// A patient's names, as one search scores them.
    private struct NamePair: Hashable {
        let given: String
        let family: String
    }

    // MARK: Sealing rows written before fields were sealed

    /// Seals the identifying fields of patients stored before sealing began, 500 at a time,
    /// each batch in a transaction with an audit event; then marks the tenant done, so later
    /// starts ask one counter. A row changed meanwhile (another version) is left for the next
    /// batch. Returns how many rows it sealed.
    @discardableResult
    package func sealLegacy(in scope: TenantScope) async throws -> Int {
        let patients = try scope.table("patients"), counters = try scope.table("clinical_counters")
        let done = try await scope.read { database in
            try await database.select().column("value").from(counters).where("name", .equal, "patient_fields_sealed").first()?.decode(column: "value", as: Int.self)
        }
        guard done == 0 else { return 0 }
        let keys = try await protection.keys(for: scope.tenant.id)
        let clear = PatientProtection.sealedColumns.map { "(\"\($0)\" IS NOT NULL AND \"\($0)\" NOT LIKE 'v1:%')" }.joined(separator: " OR ")
        var sealed = 0
        while true {
            let batch = try await scope.transaction { database -> Int in
                let rows = try await database.raw("SELECT \(unsafeRaw: Patient.columnList) FROM \(patients) WHERE \(unsafeRaw: clear) LIMIT 500").all()
                    .map(Patient.init(row:))
                for stored in rows {
                    try await database.update(patients).set(model: try StoredPatient(try keys.opened(stored), keys: keys))
                        .where("id", .equal, stored.id).where("version", .equal, stored.version).run()
                }
                if rows.isEmpty {
                    try await database.update(counters).set("value", to: 1).where("name", .equal, "patient_fields_sealed").run()
                } else {
                    try await audit.append(AuditActor.system.record("seal_fields", resourceType: "patient", details: ["count": String(rows.count)]),
                                           in: database, scope: scope)
                }
                return rows.count
            }
            guard batch > 0 else { return sealed }
            sealed += batch
        }
    }

    // MARK: Helpers

    /// Rewrites a patient's search terms.
    static func index(_ patient: Patient, in database: any SQLDatabase, scope: TenantScope) async throws {
        let terms = try scope.table("patient_search_terms")
        try await database.delete(from: terms).where("patient_id", .equal, patient.id).run()
        let values = patient.status == "active" ? PatientSearch.terms(givenName: patient.givenName, familyName: patient.familyName) : []
        guard !values.isEmpty else { return }
        var insert = database.insert(into: terms).columns("term", "family_name", "given_name", "patient_id")
        for term in values { insert = insert.values(SQLBind(term), SQLBind(patient.familyName), SQLBind(patient.givenName), SQLBind(patient.id)) }
        try await insert.run()
    }

    static func json(_ metadata: [String: String]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: metadata, options: [.sortedKeys]), as: UTF8.self)
    }
}
