import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardAudit
@testable import WardClinical
import WardHTTP
import WardStorage
import WardTestSupport

@Suite("Patients")
struct PatientTests {
    @Test("registration validates each field, generates a checked MRN, and refuses a duplicate MRN", arguments: TestBackend.allCases)
    func registration(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("desk@acme.test", roles: ["receptionist"])
                try await node.test { client in
                    let token = try await client.token("desk@acme.test")
                    let invalid = try await client.send(.post, "/api/v1/patients", token: token, json: [
                        "given_name": "", "birth_date": "2030-02-30", "sex": "x", "phone": "call me", "email": "no-at-sign", "mrn": "bad mrn!",
                    ])
                    #expect(invalid.status == .unprocessableContent)
                    let fields = Set((invalid.json["errors"] as? [[String: Any]])?.compactMap { $0["field"] as? String } ?? [])
                    #expect(fields == ["given_name", "family_name", "birth_date", "sex", "phone", "email", "mrn"])

                    let created = try await client.send(.post, "/api/v1/patients", token: token, json: [
                        "given_name": "Anita", "family_name": "Kowalski", "birth_date": "1984-03-12", "sex": "female", "phone": "+44 20 7946 0001",
                    ])
                    #expect(created.status == .created)
                    #expect(created.headers[.eTag] == "\"1\"")
                    let mrn = try #require(created.json["mrn"] as? String)
                    #expect(MedicalRecordNumber.isValidGenerated(mrn))

                    #expect(try await client.send(.post, "/api/v1/patients", token: token, json: ["given_name": "A", "family_name": "B", "mrn": "MRN-7"]).status == .created)
                    #expect(try await client.send(.post, "/api/v1/patients", token: token, json: ["given_name": "C", "family_name": "D", "mrn": "MRN-7"]).status == .conflict)
                    let mistyped = try await client.send(.post, "/api/v1/patients", token: token, json: ["given_name": 5])
                    #expect(mistyped.status == .unprocessableContent)
                    #expect((mistyped.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "given_name")
                }
            }
        }
    }

    @Test("reads are audited with the patient, denied reads as denied, and the access log shows them", arguments: TestBackend.allCases)
    func auditedReads(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"], name: "Dana Doctor")
                try await node.staff("parking@acme.test", roles: ["parking_attendant"])
                try await node.staff("auditor@acme.test", roles: ["auditor"])
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test")
                    let id = try await client.patient(doctor, ["given_name": "Omar", "family_name": "Haddad", "birth_date": "1990-01-01"])

                    let read = try await client.send(.get, "/api/v1/patients/\(id)", token: doctor, headers: [HTTPField.Name("X-Request-ID")!: "read-1"])
                    #expect(read.status == .ok)
                    #expect(read.json["family_name"] as? String == "Haddad")
                    #expect(read.json["birth_date"] as? String == "1990-01-01")
                    let parking = try await client.token("parking@acme.test")
                    #expect(try await client.send(.get, "/api/v1/patients/\(id)", token: parking).status == .forbidden)
                    #expect(try await client.send(.get, "/api/v1/patients/01a20000-0000-7000-8000-000000000000", token: doctor).status == .notFound)

                    let auditor = try await client.token("auditor@acme.test")
                    let log = try await client.send(.get, "/api/v1/patients/\(id)/access-log", token: auditor)
                    #expect(log.status == .ok)
                    // Paging it asks for a cursor this API handed out and a page size in bounds.
                    for query in ["cursor=abc", "cursor=0", "limit=0", "limit=501"] {
                        let refused = try await client.send(.get, "/api/v1/patients/\(id)/access-log?\(query)", token: auditor)
                        #expect(refused.status == .badRequest, "\(query)")
                    }
                    let events = try #require(log.json["items"] as? [[String: Any]])
                    #expect(events.map { $0["action"] as? String } == ["read", "create"])
                    #expect(events[0]["request_id"] as? String == "read-1")
                    #expect(events[0]["actor_name"] as? String == "Dana Doctor")
                    #expect(events[0]["resource_type"] as? String == "patient")

                    let denied = try await client.send(.get, "/api/v1/audit-events?outcome=denied", token: auditor)
                    let deniedEvents = try #require(denied.json["items"] as? [[String: Any]])
                    #expect(deniedEvents.contains { $0["resource_type"] as? String == "/api/v1/patients/{id}" && ($0["details"] as? [String: String])?["permission"] == "patients:read" })
                }
            }
        }
    }

    @Test("PATCH needs If-Match; a stale version answers 412 and changes nothing", arguments: TestBackend.allCases)
    func optimisticConcurrency(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("nurse@acme.test", roles: ["nurse"])
                try await node.test { client in
                    let token = try await client.token("nurse@acme.test")
                    let id = try await client.patient(token, ["given_name": "Mei", "family_name": "Tanaka"])

                    #expect(try await client.send(.patch, "/api/v1/patients/\(id)", token: token, json: ["phone": "0123456"]).status == .preconditionRequired)
                    let first = try await client.send(.patch, "/api/v1/patients/\(id)", token: token, json: ["phone": "0123456"], headers: [.ifMatch: "\"1\""])
                    #expect(first.status == .ok)
                    #expect(first.headers[.eTag] == "\"2\"")
                    let stale = try await client.send(.patch, "/api/v1/patients/\(id)", token: token, json: ["phone": "0999999"], headers: [.ifMatch: "\"1\""])
                    #expect(stale.status == .preconditionFailed)
                    let current = try await client.send(.get, "/api/v1/patients/\(id)", token: token)
                    #expect(current.json["phone"] as? String == "0123456")
                    #expect(current.json["version"] as? Int == 2)

                    let archived = try await client.send(.post, "/api/v1/patients/\(id)/archive", token: token, json: ["reason": "duplicate record"])
                    #expect(archived.json["status"] as? String == "archived")
                    let list = try await client.send(.get, "/api/v1/patients?limit=10", token: token)
                    #expect((list.json["items"] as? [[String: Any]])?.isEmpty == true)
                    #expect(try await client.send(.get, "/api/v1/patients/\(id)", token: token).status == .ok)
                }
            }
        }
    }

    @Test("lists page through every active patient with a cursor", arguments: TestBackend.allCases)
    func pagination(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("desk@acme.test", roles: ["receptionist"])
                try await node.test { client in
                    let token = try await client.token("desk@acme.test")
                    var created: [String] = []
                    for n in 0..<7 { created.append(try await client.patient(token, ["given_name": "Pat\(n)", "family_name": "Lee"])) }
                    var seen: [String] = []
                    var cursor: String?
                    repeat {
                        let page = try await client.send(.get, "/api/v1/patients?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""), token: token)
                        #expect(page.status == .ok)
                        seen += (page.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
                        cursor = page.json["next_cursor"] as? String
                    } while cursor != nil
                    #expect(seen == created)
                    #expect(try await client.send(.get, "/api/v1/patients?cursor=nonsense", token: token).status == .badRequest)
                    #expect(try await client.send(.get, "/api/v1/patients?limit=0", token: token).status == .badRequest)
                }
            }
        }
    }

    @Test("names tokenise the same whether ASCII (fast path) or not: lower-cased, accents folded, split on the rest")
    func tokens() {
        #expect(PatientSearch.tokens("O'Brien-SMITH 3rd") == ["o", "brien", "smith", "3rd"])
        #expect(PatientSearch.tokens("José  Ñúñez") == ["jose", "nunez"])
        #expect(PatientSearch.tokens("Zoë O’Brien") == ["zoe", "o", "brien"])
        #expect(PatientSearch.tokens("  ") == [])
        // A misspelling one edit away, transpositions included, is within distance 1.
        #expect(PatientSearch.distance("smith", "smiht") == 1)
        #expect(PatientSearch.distance("nguyen", "ngyuen") == 1)
        #expect(PatientSearch.distance("garcia", "gracai") > 1)
    }

    @Test("a patient reads back as JSON equal to what the general encoder writes")
    func patientJSON() throws {
        let patient = Patient(
            id: "p1", mrn: "M-1", givenName: "Ada \"Q\"", familyName: "Ñúñez\n", birthDate: "1990-01-02", sex: nil, phone: "+44 1",
            email: nil, address: "1 Road / Town", nationalID: nil, emergencyContact: "\u{1}x", emailReminders: false, metadata: "{\"a\":\"b\"}", status: "active",
            version: 3, createdBy: "u1", createdAt: "2026-12-01T10:00:00.000Z", updatedBy: nil, updatedAt: "2026-12-01T10:00:00.000Z"
        )
        let page = ItemPage([patient, patient], nextCursor: nil)
        var written = ""
        page.appendJSON(to: &written)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let expected = try JSONSerialization.jsonObject(with: try encoder.encode(page)) as? NSDictionary
        let actual = try JSONSerialization.jsonObject(with: Data(written.utf8)) as? NSDictionary
        #expect(actual == expected)
        #expect(written.contains("\"next_cursor\":null"))
        #expect(!written.contains("\"sex\""))
    }

    @Test("search finds one-edit misspellings, MRN, phone, email and birth date, best first", arguments: TestBackend.allCases)
    func search(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("desk@acme.test", roles: ["receptionist"])
                try await node.test { client in
                    let token = try await client.token("desk@acme.test")
                    let smith = try await client.patient(token, ["given_name": "John", "family_name": "Smith", "mrn": "A-1001", "phone": "555-0101",
                                                                 "email": "john.smith@example.test", "birth_date": "1970-05-05"])
                    let smyth = try await client.patient(token, ["given_name": "Jane", "family_name": "Smyth"])
                    let nguyen = try await client.patient(token, ["given_name": "Linh", "family_name": "Nguyễn"])
                    _ = try await client.patient(token, ["given_name": "Anita", "family_name": "Patel"])

                    func ids(_ q: String) async throws -> [String] {
                        let escaped = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
                        let response = try await client.send(.get, "/api/v1/patients?q=\(escaped)&limit=20", token: token)
                        #expect(response.status == .ok)
                        return (response.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
                    }
                    #expect(try await ids("smith").first == smith)                     // exact first…
                    #expect(Set(try await ids("smith")) == [smith, smyth])              // …then one substitution away
                    #expect(try await ids("smiht") == [smith])                          // transposition
                    #expect(try await ids("ngyuen") == [nguyen])                        // transposition, accents folded
                    #expect(try await ids("nguyen") == [nguyen])
                    #expect(try await ids("john smiht") == [smith])                     // every token must match
                    #expect(try await ids("A-1001") == [smith])
                    #expect(try await ids("555-0101") == [smith])
                    #expect(try await ids("john.smith@example.test") == [smith])
                    #expect(try await ids("1970-05-05") == [smith])
                    #expect(try await ids("zzzzzz").isEmpty)
                    #expect(try await ids("patl").count == 1)                           // deletion
                }
            }
        }
    }
}
