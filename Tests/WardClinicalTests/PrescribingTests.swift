import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardAudit
import WardClinical
import WardTestSupport

@Suite("Medications and prescriptions")
struct PrescribingTests {
    @Test("the formulary is searched typo-tolerantly; prescriptions validate, are audited and move active → completed", arguments: TestBackend.allCases)
    func prescribing(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"], name: "Dana Doctor")
                try await node.staff("nurse@acme.test", roles: ["nurse"])
                let scope = try await node.services.storage.tenants.activeScope(slug: "acme")
                #expect(try await PrescribingService(audit: node.services.audit).loadStarterFormulary(in: scope, by: .system) == PrescribingService.starterFormulary.count)
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test")
                    let patient = try await client.patient(doctor, ["given_name": "Yuki", "family_name": "Tanaka"])

                    func medications(_ q: String) async throws -> [[String: Any]] {
                        let response = try await client.send(.get, "/api/v1/medications?q=\(q)", token: doctor)
                        return response.json["items"] as? [[String: Any]] ?? []
                    }
                    #expect(try await medications("amoxicilin").first?["code"] as? String == "AMOX500")   // one deletion
                    #expect(try await medications("PARA500").first?["name"] as? String == "Paracetamol")
                    #expect(try await medications("zzzzz").isEmpty)
                    let amoxicillin = try #require(try await medications("amoxicillin").first?["id"] as? String)

                    let invalid = try await client.send(.post, "/api/v1/prescriptions", token: doctor, json: [
                        "patient_id": patient, "items": [["medication_id": amoxicillin, "dose": "", "route": "oral", "frequency": "tds", "duration_days": 0, "quantity": 21]],
                    ])
                    #expect(invalid.status == .unprocessableContent)
                    let fields = (invalid.json["errors"] as? [[String: Any]])?.compactMap { $0["field"] as? String } ?? []
                    #expect(fields == ["items[0].dose", "items[0].duration_days"])

                    let issued = try await client.send(.post, "/api/v1/prescriptions", token: doctor, json: [
                        "patient_id": patient,
                        "items": [["medication_id": amoxicillin, "dose": "500 mg", "route": "oral", "frequency": "three times a day", "duration_days": 7, "quantity": 21]],
                    ])
                    #expect(issued.status == .created)
                    let id = try #require(issued.json["id"] as? String)
                    #expect(issued.json["prescriber_name"] as? String == "Dana Doctor")

                    let nurse = try await client.token("nurse@acme.test")
                    #expect(try await client.send(.post, "/api/v1/prescriptions", token: nurse, json: ["patient_id": patient, "items": []]).status == .forbidden)
                    let list = try await client.send(.get, "/api/v1/patients/\(patient)/prescriptions", token: nurse)
                    #expect((list.json["items"] as? [[String: Any]])?.count == 1)

                    #expect(try await client.send(.post, "/api/v1/prescriptions/\(id)/status", token: doctor, json: ["status": "completed"], headers: [.ifMatch: "\"2\""]).status == .preconditionFailed)
                    #expect(try await client.send(.post, "/api/v1/prescriptions/\(id)/status", token: doctor, json: ["status": "completed"], headers: [.ifMatch: "\"1\""]).status == .ok)
                    #expect(try await client.send(.post, "/api/v1/prescriptions/\(id)/status", token: doctor, json: ["status": "cancelled"], headers: [.ifMatch: "\"2\""]).status == .conflict)
                }
                let events = try await node.services.audit.events(in: scope, filter: { var f = AuditStore.Filter(); f.resourceType = "prescription"; return f }(), before: nil, limit: 10)
                #expect(events.map(\.action) == ["update", "read", "create"])
            }
        }
    }
}
