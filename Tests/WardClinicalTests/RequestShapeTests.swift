import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardTestSupport

/// What a request body and its headers must look like, as the OpenAPI document declares it and
/// the edge enforces it: no field the schema does not name, no null where it allows none, times
/// in RFC 3339 with any offset, If-Match as one ETag. Each refusal names what is wrong.
@Suite("Request shapes")
struct RequestShapeTests {
    @Test("a field the schema does not name is refused with 422 naming it, at any depth; metadata stays open", arguments: TestBackend.allCases)
    func unknownFields(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test")
                    let before = try await client.send(.get, "/api/v1/patients", token: doctor).json["items"] as? [[String: Any]]

                    // A misspelt birth_date would otherwise be dropped, and the record stored without it.
                    let misspelt = try await client.send(.post, "/api/v1/patients", token: doctor,
                                                         json: ["given_name": "Ada", "family_name": "Okafor", "birthdate": "1980-02-01"])
                    #expect(misspelt.status == .unprocessableContent)
                    #expect(misspelt.json["errors"] as? [[String: String]] == [["field": "birthdate", "message": "is not a field of this request"]])

                    let patient = try await client.patient(doctor, ["given_name": "Ada", "family_name": "Okafor", "metadata": ["ward": "7", "bed": "12"]])
                    let medication = try #require(try await client.send(.post, "/api/v1/medications", token: doctor,
                                                                        json: ["code": "ZX-1", "name": "Zedoxin", "form": "tablet", "strength": "10 mg"]).json["id"] as? String)
                    let item: [String: Any] = ["medication_id": medication, "dose": "500 mg", "route": "oral", "frequency": "daily", "duration_days": 5, "quantity": 5]
                    let nested = try await client.send(.post, "/api/v1/prescriptions", token: doctor,
                                                       json: ["patient_id": patient, "items": [item, item.merging(["refills": 2]) { $1 }]])
                    #expect(nested.status == .unprocessableContent)
                    #expect((nested.json["errors"] as? [[String: String]])?.first?["field"] == "items.1.refills")
                    #expect(try await client.send(.post, "/api/v1/prescriptions", token: doctor, json: ["patient_id": patient, "items": [item]]).status == .created)

                    let after = try await client.send(.get, "/api/v1/patients", token: doctor).json["items"] as? [[String: Any]]
                    #expect(after?.count == (before?.count ?? 0) + 1, "only the valid registration was stored")
                }
            }
        }
    }

    @Test("null where a field allows none, or a value of the wrong type, is refused with 422 naming the field", arguments: TestBackend.allCases)
    func nullsAndTypes(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                try await node.staff("auditor@acme.test", roles: ["auditor"])
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test"), auditor = try await client.token("auditor@acme.test")
                    for (body, field, message) in [
                        (["given_name": "Ada", "family_name": "Okafor", "mrn": NSNull()] as [String: Any], "mrn", "must not be null"),
                        (["given_name": "Ada", "family_name": "Okafor", "metadata": ["ward": 7]], "metadata.ward", "must be a string"),
                        (["given_name": ["Ada"], "family_name": "Okafor"], "given_name", "must be a string"),
                    ] {
                        let refused = try await client.send(.post, "/api/v1/patients", token: doctor, json: body)
                        #expect(refused.status == .unprocessableContent, "\(field)")
                        #expect(refused.json["errors"] as? [[String: String]] == [["field": field, "message": message]])
                    }
                    // A null note is not "no note": the review is refused, and stays open.
                    let patient = try await client.patient(doctor, ["given_name": "Ada", "family_name": "Okafor"])
                    let grant = try await client.send(.post, "/api/v1/auth/break-glass", token: doctor,
                                                      json: ["patient_id": patient, "reason": "patient collapsed in the corridor"])
                    let id = try #require(grant.json["id"] as? String)
                    let review = try await client.send(.post, "/api/v1/audit-events/break-glass/\(id)/review", token: auditor, json: ["note": NSNull()])
                    #expect(review.status == .unprocessableContent)
                    #expect((review.json["errors"] as? [[String: String]])?.first?["field"] == "note")
                    let open = try await client.send(.get, "/api/v1/audit-events/break-glass", token: auditor).json["items"] as? [[String: Any]]
                    #expect(open?.map { $0["id"] as? String } == [id])
                    let long = try await client.send(.post, "/api/v1/audit-events/break-glass/\(id)/review", token: auditor,
                                                     json: ["note": String(repeating: "n", count: 1001)])
                    #expect(long.status == .unprocessableContent, "a note over 1,000 characters is refused, not cut")
                }
            }
        }
    }

    @Test("If-Match: missing answers 428, malformed (empty too) 400, stale 412", arguments: TestBackend.allCases)
    func ifMatch(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test")
                    let patient = try await client.patient(doctor, ["given_name": "Ada", "family_name": "Okafor"])
                    let path = "/api/v1/patients/\(patient)"
                    #expect(try await client.send(.patch, path, token: doctor, json: ["phone": "0123456"]).status == .preconditionRequired)
                    for malformed in ["", " ", "1", "\"1", "W/1", "\"one\"", "*", "\"1\", \"2\"", "\"-1\""] {
                        let refused = try await client.send(.patch, path, token: doctor, json: ["phone": "0123456"], headers: [.ifMatch: malformed])
                        #expect(refused.status == .badRequest, "\(malformed)")
                        #expect((refused.json["errors"] as? [[String: String]])?.first?["field"] == "If-Match", "\(malformed)")
                    }
                    #expect(try await client.send(.patch, path, token: doctor, json: ["phone": "0123456"], headers: [.ifMatch: "\"2\""]).status == .preconditionFailed)
                    #expect(try await client.send(.patch, path, token: doctor, json: ["phone": "0123456"], headers: [.ifMatch: "W/\"1\""]).status == .ok)
                    // Archiving reads If-Match when sent, and goes without it.
                    #expect(try await client.send(.post, "\(path)/archive", token: doctor, headers: [.ifMatch: ""]).status == .badRequest)
                    #expect(try await client.send(.post, "\(path)/archive", token: doctor, headers: [.ifMatch: "2"]).status == .badRequest)
                    #expect(try await client.send(.post, "\(path)/archive", token: doctor).status == .ok)
                }
            }
        }
    }

    @Test("times take any RFC 3339 offset up to ±23:59, in a body as in a query, and keep their milliseconds", arguments: TestBackend.allCases)
    func offsets(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                try await node.staff("admin@acme.test", roles: ["tenant_admin"])
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test"), admin = try await client.token("admin@acme.test")
                    let patient = try await client.patient(doctor, ["given_name": "Ada", "family_name": "Okafor"])
                    let practitioner = try #require(try await client.send(.post, "/api/v1/practitioners", token: admin, json: ["name": "Dr Lee"]).json["id"] as? String)
                    // 09:00:00.677 to 09:30:00.677 UTC, written 21:37 behind and 23:59 ahead (lower-case t and z too).
                    let booked = try await client.send(.post, "/api/v1/appointments", token: doctor, json: [
                        "patient_id": patient, "practitioner_id": practitioner,
                        "start": "2030-01-06T11:23:00.677-21:37", "end": "2030-01-08t09:29:00.677+23:59",
                    ])
                    #expect(booked.status == .created)
                    #expect(booked.json["start_at"] as? String == "2030-01-07T09:00:00.677Z")
                    #expect(booked.json["end_at"] as? String == "2030-01-07T09:30:00.677Z")
                    let zulu = try await client.send(.post, "/api/v1/appointments", token: doctor, json: [
                        "patient_id": patient, "practitioner_id": practitioner, "start": "2030-01-07t10:00:00z", "end": "2030-01-07T10:15:00.1Z",
                    ])
                    #expect(zulu.status == .created)
                    #expect(zulu.json["end_at"] as? String == "2030-01-07T10:15:00.100Z")
                    for (from, count) in [("2030-01-07T09:00:00.500%2B15:32", 2), ("2030-01-07T10:10:00Z", 1), ("2030-01-08T09:00:00Z", 0), ("0200-04-18T21:00:29.0-21:37", 2), ("0000-12-31T23:50:39.000Z", 2)] {
                        let listed = try await client.send(.get, "/api/v1/appointments?patient_id=\(patient)&from=\(from)", token: doctor)
                        #expect(listed.status == .ok, "\(from)")
                        #expect((listed.json["items"] as? [[String: Any]])?.count == count, "\(from)")
                    }
                    for invalid in ["2030-01-07T24:00:00Z", "2030-01-07T09:00:60Z", "2030-01-07T09:00:00+24:00", "2029-02-29T09:00:00Z",
                                    "0000-02-30T00:00:00Z", "2030-01-07 09:00:00Z", "2030-01-07T09:00:00"] {
                        let refused = try await client.send(.get, "/api/v1/appointments?from=\(invalid.replacingOccurrences(of: " ", with: "%20"))", token: doctor)
                        #expect(refused.status == .badRequest, "\(invalid)")
                    }
                }
            }
        }
    }

    @Test("a medication code already in the formulary answers 409, not 422", arguments: TestBackend.allCases)
    func duplicateMedication(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test")
                    let medication: [String: Any] = ["code": "ZX-1", "name": "Zedoxin", "form": "tablet", "strength": "10 mg"]
                    #expect(try await client.send(.post, "/api/v1/medications", token: doctor, json: medication).status == .created)
                    let again = try await client.send(.post, "/api/v1/medications", token: doctor, json: medication.merging(["code": "zx-1"]) { $1 })
                    #expect(again.status == .conflict)
                    #expect((again.json["errors"] as? [[String: String]])?.first?["field"] == "code")
                }
            }
        }
    }
}
