package import Crypto
import Foundation
import SQLKit
import Synchronization
import WardCore
package import WardStorage

/// The identifying fields of a patient as the tenant's database keeps them: date of birth,
/// phone, email, address, national id and emergency contact are sealed with ChaCha20-Poly1305
/// under a key derived from the tenant's data key (`TenantKeys`: random per tenant, wrapped by
/// the master key, destroyed when the tenant is purged). Each value is bound to its column and
/// patient, so a value copied into another row or column does not open. Those searched by exact
/// value (date of birth, phone, email, national id) also get a blind index: HMAC-SHA256 of the
/// normalised value under another derived key, which finds equal values without revealing
/// them. Names, the record number, sex and metadata stay in clear: typo-tolerant name search
/// needs the names' terms, and a name alone identifies less than these fields do.
package final class PatientProtection: Sendable {
    private let keys: TenantKeys
    private let derived = Mutex<[String: FieldKeys]>([:])

    /// The sealed columns, as the patients table names them.
    package static var sealedColumns: [String] { FieldKeys.fields.map(\.column) }
    /// The columns with a blind index (`<column>_index`).
    package static let indexedColumns = ["birth_date", "phone", "email", "national_id"]

    package init(keys: TenantKeys) {
        self.keys = keys
    }

    /// The field keys of `tenantID`, derived once per node from its data key.
    package func keys(for tenantID: String) async throws -> FieldKeys {
        if let known = derived.withLock({ $0[tenantID] }) { return known }
        let fieldKeys = FieldKeys(dataKey: try await keys.key(for: tenantID))
        derived.withLock { $0[tenantID] = fieldKeys }
        return fieldKeys
    }

    /// Forgets a purged tenant's derived keys.
    package func forget(_ tenantID: String) {
        derived.withLock { _ = $0.removeValue(forKey: tenantID) }
    }

    /// One column of one patient, opened (nil stays nil; a value stored before sealing began is
    /// returned as it is).
    package func open(_ stored: String?, column: String, patientID: String, in scope: TenantScope) async throws -> String? {
        guard let stored, stored.hasPrefix(FieldKeys.prefix) else { return stored }
        return try await keys(for: scope.tenant.id).open(stored, column: column, patientID: patientID)
    }
}

/// A tenant's keys for patient fields: one seals, one indexes.
package struct FieldKeys: Sendable {
    private let text: SealedText
    /// What begins a sealed value (the format's version).
    static let prefix = SealedText.prefix

    package init(dataKey: SymmetricKey) {
        text = SealedText(dataKey: dataKey, purpose: "patient fields")
    }

    private static func context(column: String, patientID: String) -> String {
        "patients.\(column).\(patientID)"
    }

    /// `value` sealed for `column` of patient `patientID`.
    package func seal(_ value: String?, column: String, patientID: String) throws -> String? {
        try value.map { try text.seal($0, context: Self.context(column: column, patientID: patientID)) }
    }

    /// A sealed value opened; a value without the prefix (stored before sealing began) as it is.
    package func open(_ stored: String?, column: String, patientID: String) throws -> String? {
        guard let stored, stored.hasPrefix(Self.prefix) else { return stored }
        guard let plain = text.open(stored, context: Self.context(column: column, patientID: patientID)) else {
            throw SealedFieldDamaged(column: column, patientID: patientID)
        }
        return plain
    }

    /// The blind index of `value` in `column`: equal normalised values give equal indexes.
    package func index(_ value: String?, column: String) -> String? {
        guard let value, let normal = Self.normalised(value, column: column), !normal.isEmpty else { return nil }
        return text.index("\(column):\(normal)")
    }

    /// What equality means for each indexed column: digits and a leading plus of a phone
    /// number, an email in lower case, a national id's letters and digits in upper case.
    static func normalised(_ value: String, column: String) -> String? {
        switch column {
        case "phone": return value.filter { $0.isASCII && ($0.isNumber || $0 == "+") }
        case "email": return value.trimmingCharacters(in: .whitespaces).lowercased()
        case "national_id": return value.filter { $0.isASCII && ($0.isLetter || $0.isNumber) }.uppercased()
        case "birth_date": return value.trimmingCharacters(in: .whitespaces)
        default: return nil
        }
    }

    /// The sealed fields of `Patient`, by column (`PatientProtection.sealedColumns`, in order).
    static let fields: [(column: String, field: any WritableKeyPath<Patient, String?> & Sendable)] = [
        ("birth_date", \.birthDate), ("phone", \.phone), ("email", \.email), ("address", \.address),
        ("national_id", \.nationalID), ("emergency_contact", \.emergencyContact),
    ]

    /// The patient with its identifying fields sealed, and the blind indexes of those searched.
    package func sealed(_ patient: Patient) throws -> (patient: Patient, indexes: [(column: String, value: String?)]) {
        var stored = patient
        for (column, field) in Self.fields { stored[keyPath: field] = try seal(patient[keyPath: field], column: column, patientID: patient.id) }
        let indexes = Self.fields.filter { PatientProtection.indexedColumns.contains($0.column) }
            .map { (column: $0.column + "_index", value: index(patient[keyPath: $0.field], column: $0.column)) }
        return (stored, indexes)
    }

    /// The patient as stored, opened: every sealed field, or only those a list of results
    /// shows (the others left out, never shown sealed). Opening is most of what a search's rows
    /// cost after the search itself.
    package func opened(_ stored: Patient, fields: Patient.Disclosure = .all) throws -> Patient {
        var patient = stored
        for (column, field) in Self.fields {
            patient[keyPath: field] = fields == .all || Patient.Disclosure.listedColumns.contains(column)
                ? try open(stored[keyPath: field], column: column, patientID: stored.id) : nil
        }
        return patient
    }
}

/// A sealed field that does not open: changed in the database, moved from another row, or
/// sealed under a key this tenant does not have.
package struct SealedFieldDamaged: Error, CustomStringConvertible {
    package let column: String
    package let patientID: String
    package var description: String { "the sealed \(column) of patient \(patientID) does not open" }
}

/// A patient row as written: the sealed patient's columns and its blind indexes, encoded as one
/// model so an insert or update is one statement.
struct StoredPatient: Encodable {
    let patient: Patient
    let indexes: [(column: String, value: String?)]

    init(_ patient: Patient, keys: FieldKeys) throws {
        (self.patient, self.indexes) = try keys.sealed(patient)
    }

    private struct Column: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        try patient.encode(to: encoder)
        var container = encoder.container(keyedBy: Column.self)
        for (column, value) in indexes {
            if let value { try container.encode(value, forKey: Column(stringValue: column)) } else { try container.encodeNil(forKey: Column(stringValue: column)) }
        }
    }
}

extension PatientProtection {
    /// Seals every patient of the tenant anew: opened with `old` keys, sealed and indexed with
    /// `new` ones, 500 to a transaction (a tenant restored from a backup under a key of its own).
    /// Returns how many patients it resealed.
    @discardableResult
    package static func reseal(in scope: TenantScope, from old: FieldKeys, to new: FieldKeys) async throws -> Int {
        let patients = try scope.table("patients"), table = try scope.tableName("patients")
        var after = "", count = 0
        while true {
            let (last, resealed) = try await scope.transaction { [after] database -> (String?, Int) in
                let rows = try await database.raw("SELECT \(unsafeRaw: Patient.columnList) FROM \(unsafeRaw: table) WHERE \"id\" > \(bind: after) ORDER BY \"id\" LIMIT 500")
                    .all().map(Patient.init(row:))
                for stored in rows {
                    try await database.update(patients).set(model: try StoredPatient(try old.opened(stored), keys: new)).where("id", .equal, stored.id).run()
                }
                return (rows.last?.id, rows.count)
            }
            count += resealed
            guard let last else { return count }
            after = last
        }
    }
}
