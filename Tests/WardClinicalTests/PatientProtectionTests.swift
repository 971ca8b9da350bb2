import Foundation
import HummingbirdTesting
import SQLKit
import Testing
import WardClinical
import WardServer
import WardStorage
import WardTestSupport

@Suite("Patient fields at rest")
struct PatientProtectionTests {
    static let identifying: [String: String] = [
        "given_name": "Ingrid", "family_name": "Johansson", "birth_date": "1980-04-02", "phone": "+44 20 7946 0958",
        "email": "ingrid.johansson@example.org", "address": "14 Larkspur Lane, Cambridge CB1 2AB", "national_id": "QQ 12 34 56 C",
        "emergency_contact": "Sven Johansson +44 20 7946 0001",
    ]
    /// What must not appear in the database in clear.
    static let secrets = ["7946 0958", "79460958", "ingrid.johansson@example.org", "Larkspur Lane", "QQ 12 34 56 C", "QQ123456C", "1980-04-02",
                          "Sven Johansson"]

    @Test("the tenant's database holds no identifier in clear, while reads show them and exact search by phone, email, national id and birth date finds the patient",
          arguments: TestBackend.allCases)
    func sealedAtRest(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("desk@acme.test", roles: ["receptionist"])
                let patientID = try await Self.register(node)
                let scope = try await node.services.storage.tenants.activeScope(slug: "acme")
                // Every column of the row, as the database gives it.
                let stored = try await scope.read { database in
                    try await database.raw("SELECT * FROM \(try scope.table("patients")) WHERE id = \(bind: patientID)").first()
                }
                let row = try #require(stored)
                for column in PatientProtection.sealedColumns {
                    #expect(try row.decode(column: column, as: String.self).hasPrefix("v1:"), "\(column) is not sealed")
                }
                if backend == .sqlite {
                    // The file and its write-ahead log, byte for byte.
                    let path = site.directory + "/tenants/acme.sqlite"
                    let bytes = (try Data(contentsOf: URL(fileURLWithPath: path))) + ((try? Data(contentsOf: URL(fileURLWithPath: path + "-wal"))) ?? Data())
                    for secret in Self.secrets { #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) is in the file in clear") }
                } else {
                    let text = try await scope.read { database in
                        try await database.raw("SELECT string_agg(t::text, '|') AS rows FROM \(try scope.table("patients")) t").first()?.decode(column: "rows", as: String.self)
                    }
                    for secret in Self.secrets { #expect(text?.contains(secret) == false, "\(secret) is in the table in clear") }
                }
                try await node.test { client in
                    let token = try await client.token("desk@acme.test")
                    let read = try await client.send(.get, "/api/v1/patients/\(patientID)", token: token)
                    #expect(read.json["phone"] as? String == "+44 20 7946 0958" && read.json["national_id"] as? String == "QQ 12 34 56 C")
                    #expect(read.json["birth_date"] as? String == "1980-04-02" && read.json["emergency_contact"] as? String == "Sven Johansson +44 20 7946 0001")
                    // Exact search through the blind indexes, in the forms people type them.
                    for query in ["+442079460958", "+44 20 7946 0958", "Ingrid.Johansson@example.org", "QQ123456C", "qq 12 34 56 c", "1980-04-02"] {
                        let found = try await client.send(.get, "/api/v1/patients?q=\(query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", token: token)
                        let ids = (found.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
                        #expect(ids == [patientID], "\(query) did not find the patient")
                    }
                    // An update reseals: the new phone is found, the old one no longer.
                    let changed = try await client.send(.patch, "/api/v1/patients/\(patientID)", token: token, json: ["phone": "+44 20 7946 0777"],
                                                        headers: [.ifMatch: "\"1\""])
                    #expect(changed.status == .ok && changed.json["phone"] as? String == "+44 20 7946 0777")
                    let old = try await client.send(.get, "/api/v1/patients?q=%2B442079460958", token: token)
                    #expect((old.json["items"] as? [[String: Any]])?.isEmpty == true)
                    let new = try await client.send(.get, "/api/v1/patients?q=%2B442079460777", token: token)
                    #expect((new.json["items"] as? [[String: Any]])?.count == 1)
                }
            }
        }
    }

    @Test("a field moved into another patient's row does not open, and says which", arguments: [TestBackend.sqlite])
    func boundToRow(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("desk@acme.test", roles: ["receptionist"])
                let first = try await Self.register(node)
                let second = try await Self.register(node)
                let scope = try await node.services.storage.tenants.activeScope(slug: "acme")
                let patients = try scope.table("patients")
                try await scope.transaction { database in
                    try await database.raw("UPDATE \(patients) SET phone = (SELECT phone FROM \(patients) WHERE id = \(bind: first)) WHERE id = \(bind: second)").run()
                }
                let service = try node.services.node.require(PatientService.self, by: "test")
                await #expect(throws: SealedFieldDamaged.self) { _ = try await service.read(second, in: scope, by: .system) }
                #expect(try await service.read(first, in: scope, by: .system).phone == "+44 20 7946 0958")
            }
        }
    }

    @Test("a search for a list of results opens only the birth date and phone; the API's search opens every field", arguments: [TestBackend.sqlite])
    func listedDisclosure(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("desk@acme.test", roles: ["receptionist"])
                let patientID = try await Self.register(node)
                let scope = try await node.services.storage.tenants.activeScope(slug: "acme")
                let service = try node.services.node.require(PatientService.self, by: "test")
                for query in ["Johansson", "Johanson", "+44 20 7946 0958"] {
                    let listed = try #require(try await service.search(query, limit: 5, disclosing: .listed, in: scope, by: .system).first)
                    #expect(listed.id == patientID && listed.familyName == "Johansson")
                    #expect(listed.birthDate == "1980-04-02" && listed.phone == "+44 20 7946 0958")
                    // Left out, not shown sealed.
                    #expect(listed.email == nil && listed.address == nil && listed.nationalID == nil && listed.emergencyContact == nil)
                    let full = try #require(try await service.search(query, limit: 5, in: scope, by: .system).first)
                    #expect(full.email == "ingrid.johansson@example.org" && full.nationalID == "QQ 12 34 56 C")
                }
            }
        }
    }

    @Test("rows stored in clear before sealing began are sealed once, and stay readable and searchable", arguments: TestBackend.allCases)
    func legacyRowsSealed(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("desk@acme.test", roles: ["receptionist"])
                let scope = try await node.services.storage.tenants.activeScope(slug: "acme")
                let patients = try scope.table("patients"), counters = try scope.table("clinical_counters")
                // As an earlier build wrote it: fields in clear, no blind index, the tenant not yet sealed.
                try await scope.transaction { database in
                    try await database.raw("""
                        INSERT INTO \(patients) (id, mrn, given_name, family_name, birth_date, phone, national_id, email_reminders, metadata, status, version, created_at, updated_at)
                        VALUES ('legacy-1', 'MRN-LEGACY', 'Tomas', 'Novak', '1975-11-19', '+420 601 123 456', 'CZ7511190001', TRUE, '{}', 'active', 3,
                                '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')
                        """).run()
                    try await database.update(counters).set("value", to: 0).where("name", .equal, "patient_fields_sealed").run()
                }
                let service = try node.services.node.require(PatientService.self, by: "test")
                // Readable before sealing too: a clear value opens as itself.
                #expect(try await service.read("legacy-1", in: scope, by: .system).phone == "+420 601 123 456")
                #expect(try await service.sealLegacy(in: scope) == 1)
                #expect(try await service.sealLegacy(in: scope) == 0)
                let stored = try await scope.read { database in
                    try await database.raw("SELECT phone, national_id, version FROM \(patients) WHERE id = 'legacy-1'").first()
                }
                #expect(try stored?.decode(column: "phone", as: String.self).hasPrefix("v1:") == true)
                #expect(try stored?.decode(column: "version", as: Int.self) == 3)
                let patient = try await service.read("legacy-1", in: scope, by: .system)
                #expect(patient.phone == "+420 601 123 456" && patient.nationalID == "CZ7511190001" && patient.birthDate == "1975-11-19")
                #expect(try await service.search("CZ7511190001", limit: 5, in: scope, by: .system).map(\.id) == ["legacy-1"])
            }
        }
    }

    @Test("after the master key is rotated (the old one kept as previous) and the tenants' keys rewrapped, every record stays readable under the new key alone")
    func masterKeyRotation() async throws {
        try await withTestSite(.sqlite) { site in
            var patientID = ""
            try await TestNode.with(site) { node in
                try await node.staff("desk@acme.test", roles: ["receptionist"])
                patientID = try await Self.register(node)
            }
            let old = "test-secret-key-0123456789-abcdefghijklmnop", new = "rotated-secret-key-0123456789-qrstuvwxyz-42"
            try await TestNode.with(site, settings: ["WARD_SECRET_KEY": new, "WARD_SECRET_PREVIOUS_KEYS": old]) { node in
                let scope = try await node.services.storage.tenants.activeScope(slug: "acme")
                let service = try node.services.node.require(PatientService.self, by: "test")
                #expect(try await service.read(patientID, in: scope, by: .system).phone == "+44 20 7946 0958")
                #expect(try await TenantKeys(storage: node.services.storage, settings: node.services.settings).rewrapAll() == 1)
            }
            try await TestNode.with(site, settings: ["WARD_SECRET_KEY": new]) { node in
                let scope = try await node.services.storage.tenants.activeScope(slug: "acme")
                let service = try node.services.node.require(PatientService.self, by: "test")
                #expect(try await service.read(patientID, in: scope, by: .system).nationalID == "QQ 12 34 56 C")
            }
        }
    }

    /// Registers the patient of `identifying` through the API; returns its id.
    static func register(_ node: TestNode) async throws -> String {
        let box = IDBox()
        try await node.test { client in
            let token = try await client.token("desk@acme.test")
            await box.set(try await client.patient(token, Self.identifying))
        }
        return await box.id
    }
}

private actor IDBox {
    var id = ""
    func set(_ id: String) { self.id = id }
}
