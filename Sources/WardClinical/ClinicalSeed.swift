import Foundation
import SQLKit
package import WardAudit
import WardCore
package import WardStorage

/// Bulk registration for seeding and imports: many patients per transaction, one audit event
/// per batch, the same validation and search indexing as single registrations.
extension PatientService {
    /// Registers `inputs` in batches; returns how many were registered.
    @discardableResult
    package func importPatients(_ inputs: [PatientInput], in scope: TenantScope, by actor: AuditActor, batchSize: Int = 500) async throws -> Int {
        let patients = try scope.table("patients"), terms = try scope.table("patient_search_terms")
        let audit = self.audit
        let keys = try await protection.keys(for: scope.tenant.id)
        var imported = 0
        for start in stride(from: 0, to: inputs.count, by: batchSize) {
            let now = Timestamp.now()
            var batch: [Patient] = []
            for input in inputs[start..<min(start + batchSize, inputs.count)] {
                let errors = input.problems(creating: true)
                if !errors.isEmpty { throw ClinicalError.invalid(errors) }
                batch.append(Patient(
                    id: UUIDv7.id(), mrn: input.mrn ?? "", givenName: input.givenName!,
                    familyName: input.familyName!, birthDate: input.birthDate, sex: input.sex, phone: input.phone, email: input.email,
                    address: input.address, nationalID: nil, emergencyContact: nil, emailReminders: input.emailReminders ?? true, metadata: "{}",
                    status: "active", version: 1,
                    createdBy: actor.id, createdAt: now, updatedBy: actor.id, updatedAt: now
                ))
            }
            try await scope.transaction { [batch] database in
                var batch = batch
                let needed = batch.filter { $0.mrn.isEmpty }.count
                var next = needed > 0 ? try await Self.reserveNumbers(needed, in: database, scope: scope) : 0
                for index in batch.indices where batch[index].mrn.isEmpty {
                    batch[index].mrn = MedicalRecordNumber.make(next)
                    next += 1
                }
                try await database.insert(into: patients).models(try batch.map { try StoredPatient($0, keys: keys) }).run()
                let rows = batch.flatMap { patient in
                    PatientSearch.terms(givenName: patient.givenName, familyName: patient.familyName).map { ($0, patient) }
                }
                for chunk in stride(from: 0, to: rows.count, by: 2000) {
                    var insert = database.insert(into: terms).columns("term", "family_name", "given_name", "patient_id")
                    for (term, patient) in rows[chunk..<min(chunk + 2000, rows.count)] {
                        insert = insert.values(SQLBind(term), SQLBind(patient.familyName), SQLBind(patient.givenName), SQLBind(patient.id))
                    }
                    try await insert.run()
                }
                try await audit.append(actor.record("import", resourceType: "patient", details: ["count": String(batch.count)]), in: database, scope: scope)
            }
            imported += batch.count
        }
        // Fresh statistics, so the planner uses the term index on a newly loaded table: of this
        // tenant's tables only (a bare ANALYZE on PostgreSQL walks every tenant's schema).
        try await scope.transaction { database in
            for table in [patients, terms] { try await database.raw("ANALYZE \(table)").run() }
        }
        return imported
    }
}

/// Realistic, reproducible demo and benchmark data.
package enum ClinicalSeed {
    package static let givenNames = [
        "Anita", "John", "Maria", "Mohammed", "Wei", "Olga", "Kofi", "Aisha", "Liam", "Sofia", "Hiroshi", "Fatima", "Lucas", "Priya",
        "Omar", "Emma", "Noah", "Chen", "Ivan", "Amara", "Mateo", "Yuki", "Grace", "David", "Leila", "Samuel", "Nadia", "Tomasz",
        "Linh", "Carlos", "Hannah", "Ravi", "Elena", "Kwame", "Sara", "Jonas", "Mei", "Ahmed", "Lucia", "Daniel",
    ]
    package static let familyNames = [
        "Smith", "Patel", "Garcia", "Nguyen", "Kowalski", "Okafor", "Tanaka", "Ivanova", "Haddad", "Johnson", "Williams", "Brown",
        "Jones", "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore",
        "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
        "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
        "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Mensah", "Kim", "Singh", "Cohen", "Novak",
    ]
    package static let specialties = ["general practice", "cardiology", "paediatrics", "dermatology", "orthopaedics", "neurology", "obstetrics"]

    /// `count` patients drawn deterministically from the name lists.
    package static func patients(_ count: Int, seed: UInt64 = 2026) -> [PatientInput] {
        var generator = SplitMix(seed: seed)
        return (0..<count).map { _ in
            let given = givenNames[Int(generator.next() % UInt64(givenNames.count))]
            let family = familyNames[Int(generator.next() % UInt64(familyNames.count))]
            let year = 1930 + Int(generator.next() % 94), month = 1 + Int(generator.next() % 12), day = 1 + Int(generator.next() % 28)
            var input = PatientInput(
                givenName: given, familyName: family,
                birthDate: String(format: "%04d-%02d-%02d", year, month, day),
                sex: ["female", "male"][Int(generator.next() % 2)],
                phone: String(format: "+1 555 %07d", Int(generator.next() % 10_000_000))
            )
            input.address = "\(1 + generator.next() % 300) High Street"
            return input
        }
    }

    /// A small, fast, seedable generator so seeded data is the same on every machine.
    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
