import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardTestSupport

@Suite("Appointments")
struct AppointmentTests {
    static func setUp(_ client: any TestClientProtocol) async throws -> (token: String, patient: String, practitioner: String) {
        let admin = try await client.token("admin@acme.test")
        let practitioner = try await client.send(.post, "/api/v1/practitioners", token: admin, json: ["name": "Dr. Kofi Okafor", "specialty": "cardiology"])
        let token = try await client.token("desk@acme.test")
        let patient = try await client.patient(token, ["given_name": "Ivana", "family_name": "Ivanova"])
        return (token, patient, try #require(practitioner.json["id"] as? String))
    }

    @Test("booking refuses an overlap with 409 naming the appointment; adjacent slots and cancelled ones are free", arguments: TestBackend.allCases)
    func doubleBooking(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("admin@acme.test", roles: ["tenant_admin"])
                try await node.staff("desk@acme.test", roles: ["receptionist"])
                try await node.test { client in
                    let (token, patient, practitioner) = try await Self.setUp(client)
                    func book(_ start: String, _ end: String) async throws -> TestResponse {
                        try await client.send(.post, "/api/v1/appointments", token: token,
                                              json: ["patient_id": patient, "practitioner_id": practitioner, "start": start, "end": end])
                    }
                    let first = try await book("2030-01-07T09:00:00Z", "2030-01-07T09:15:00Z")
                    #expect(first.status == .created)
                    #expect(first.json["status"] as? String == "booked")
                    let firstID = try #require(first.json["id"] as? String)

                    let clash = try await book("2030-01-07T09:10:00+00:00", "2030-01-07T09:30:00Z")
                    #expect(clash.status == .conflict)
                    #expect((clash.json["detail"] as? String)?.contains(firstID) == true)
                    #expect(try await book("2030-01-07T09:15:00Z", "2030-01-07T09:30:00Z").status == .created)

                    let cancelled = try await client.send(.post, "/api/v1/appointments/\(firstID)/status", token: token, json: ["status": "cancelled"], headers: [.ifMatch: "\"1\""])
                    #expect(cancelled.status == .ok)
                    #expect(try await book("2030-01-07T09:00:00Z", "2030-01-07T09:15:00Z").status == .created)
                    // Offsets are honoured: 11:20+02:00 is 09:20Z, inside the 09:15–09:30 booking.
                    #expect(try await book("2030-01-07T11:20:00+02:00", "2030-01-07T11:40:00+02:00").status == .conflict)
                    #expect(try await book("2030-01-07T10:00:00.500Z", "2030-01-07T10:15:00.500Z").status == .created)

                    let invalid = try await book("2030-01-07T10:00:00Z", "2030-01-07T09:00:00Z")
                    #expect(invalid.status == .unprocessableContent)
                    #expect(try await book("yesterday", "2030-01-07T09:00:00Z").status == .unprocessableContent)
                    let unknown = try await client.send(.post, "/api/v1/appointments", token: token, json: [
                        "patient_id": "01a20000-0000-7000-8000-000000000000", "practitioner_id": practitioner,
                        "start": "2030-02-01T09:00:00Z", "end": "2030-02-01T09:15:00Z",
                    ])
                    #expect(unknown.status == .unprocessableContent)
                }
            }
        }
    }

    @Test("concurrent requests for one slot: exactly one wins", arguments: TestBackend.allCases)
    func concurrentBooking(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("admin@acme.test", roles: ["tenant_admin"])
                try await node.staff("desk@acme.test", roles: ["receptionist"])
                let ids = Mutex<(token: String, patient: String, practitioner: String)?>(nil)
                try await node.test { client in
                    let made = try await Self.setUp(client)
                    ids.withLock { $0 = made }
                }
                let (token, patient, practitioner) = try #require(ids.withLock { $0 })
                try await node.live { port, _ in
                    // Real concurrent HTTP requests against the running server.
                    let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                        for _ in 0..<12 {
                            group.addTask {
                                var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/appointments")!)
                                request.httpMethod = "POST"
                                request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
                                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                                request.httpBody = try JSONSerialization.data(withJSONObject: [
                                    "patient_id": patient, "practitioner_id": practitioner, "start": "2031-03-03T14:00:00Z", "end": "2031-03-03T14:30:00Z",
                                ])
                                let (_, response) = try await URLSession.shared.data(for: request)
                                return (response as? HTTPURLResponse)?.statusCode ?? 0
                            }
                        }
                        return try await group.reduce(into: [Int]()) { $0.append($1) }
                    }
                    #expect(statuses.filter { $0 == 201 }.count == 1)
                    #expect(statuses.filter { $0 == 409 }.count == 11)
                }
            }
        }
    }

    @Test("status changes follow the allowed transitions and need the current version", arguments: TestBackend.allCases)
    func transitions(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("admin@acme.test", roles: ["tenant_admin"])
                try await node.staff("desk@acme.test", roles: ["receptionist"])
                try await node.test { client in
                    let (token, patient, practitioner) = try await Self.setUp(client)
                    let booked = try await client.send(.post, "/api/v1/appointments", token: token, json: [
                        "patient_id": patient, "practitioner_id": practitioner, "start": "2030-05-05T08:00:00Z", "end": "2030-05-05T08:20:00Z", "reason": "check-up",
                    ])
                    let id = try #require(booked.json["id"] as? String)
                    func move(_ status: String, version: Int) async throws -> TestResponse {
                        try await client.send(.post, "/api/v1/appointments/\(id)/status", token: token, json: ["status": status], headers: [.ifMatch: "\"\(version)\""])
                    }
                    #expect(try await move("fulfilled", version: 1).status == .conflict)
                    #expect(try await move("arrived", version: 1).status == .ok)
                    #expect(try await move("fulfilled", version: 1).status == .preconditionFailed)
                    #expect(try await move("fulfilled", version: 2).status == .ok)
                    #expect(try await move("booked", version: 3).status == .conflict)
                    #expect(try await move("teleported", version: 3).status == .unprocessableContent)

                    let filtered = try await client.send(.get, "/api/v1/appointments?practitioner_id=\(practitioner)&status=fulfilled&from=2030-05-05T00:00:00Z&to=2030-05-06T00:00:00Z", token: token)
                    #expect((filtered.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
                    let none = try await client.send(.get, "/api/v1/appointments?patient_id=\(patient)&to=2030-05-05T00:00:00Z", token: token)
                    #expect((none.json["items"] as? [[String: Any]])?.isEmpty == true)
                    #expect(try await client.send(.get, "/api/v1/appointments?from=soon", token: token).status == .badRequest)
                }
            }
        }
    }
}

@Suite("Clinical paths a user can reach")
struct ClinicalReachablePathsTests {
    @Test("unknown ids answer 404; an archived patient cannot be changed; a break-glass review needs a real grant", arguments: TestBackend.allCases)
    func errors(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                try await node.staff("auditor@acme.test", roles: ["auditor"])
                try await node.test { client in
                    let token = try await client.token("doctor@acme.test")
                    let unknown = "01a20000-0000-7000-8000-000000000000"
                    #expect(try await client.send(.post, "/api/v1/appointments/\(unknown)/status", token: token, json: ["status": "arrived"], headers: [.ifMatch: "\"1\""]).status == .notFound)
                    #expect(try await client.send(.patch, "/api/v1/patients/\(unknown)", token: token, json: ["phone": "012345"], headers: [.ifMatch: "\"1\""]).status == .notFound)
                    #expect(try await client.send(.post, "/api/v1/prescriptions/\(unknown)/status", token: token, json: ["status": "completed"], headers: [.ifMatch: "\"1\""]).status == .notFound)

                    let patient = try await client.patient(token, ["given_name": "Ada", "family_name": "Okafor"])
                    #expect(try await client.send(.post, "/api/v1/patients/\(patient)/archive", token: token).status == .ok)
                    let change = try await client.send(.patch, "/api/v1/patients/\(patient)", token: token, json: ["phone": "0123456"], headers: [.ifMatch: "\"2\""])
                    #expect(change.status == .conflict)
                    #expect(try await client.send(.get, "/api/v1/patients/\(patient)", token: token).json["phone"] == nil)

                    let auditor = try await client.token("auditor@acme.test")
                    #expect(try await client.send(.post, "/api/v1/audit-events/break-glass/\(unknown)/review", token: auditor, json: ["note": "?"]).status == .notFound)
                }
            }
        }
    }
}
