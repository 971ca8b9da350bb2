import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardTestSupport

@Suite("Break-glass access")
struct BreakGlassTests {
    @Test("a grant opens one patient's record for a limited time, is audited, and waits for review", arguments: TestBackend.allCases)
    func breakGlass(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: ["WARD_AUDIT_BREAK_GLASS_DURATION": "60"]) { node in
                try await node.staff("desk@acme.test", roles: ["receptionist"])
                try await node.staff("porter@acme.test", roles: ["parking_attendant"], name: "Pat Porter")
                try await node.staff("auditor@acme.test", roles: ["auditor"])
                // An on-call clinician may break the glass but reads no record otherwise.
                _ = try await node.services.identity.createRole(in: try await node.services.storage.tenants.activeScope(slug: "acme"), name: "on_call",
                                                                description: "", permissions: ["patients:break_glass"], by: .system)
                try await node.staff("oncall@acme.test", roles: ["on_call"], name: "Pat Oncall")
                let clock = node.clock
                try await node.test { client in
                    let desk = try await client.token("desk@acme.test")
                    let patient = try await client.patient(desk, ["given_name": "Emma", "family_name": "Novak"])
                    let other = try await client.patient(desk, ["given_name": "Noah", "family_name": "Cohen"])

                    // A parking attendant cannot break the glass at all: refused and audited.
                    let attendant = try await client.token("porter@acme.test")
                    let refused = try await client.send(.post, "/api/v1/auth/break-glass", token: attendant,
                                                        json: ["patient_id": patient, "reason": "collapsed in the car park, needs allergy list"])
                    #expect(refused.status == .forbidden)
                    #expect(try await client.send(.get, "/api/v1/patients/\(patient)", token: attendant).status == .forbidden)

                    let porter = try await client.token("oncall@acme.test")
                    #expect(try await client.send(.get, "/api/v1/patients/\(patient)", token: porter).status == .forbidden)
                    // A reason must say something: at least 20 characters, in words.
                    for reason in ["x", "emergency!!!!!!!!!!!!!!!!", "   needed    "] {
                        #expect(try await client.send(.post, "/api/v1/auth/break-glass", token: porter, json: ["patient_id": patient, "reason": reason]).status == .unprocessableContent)
                    }

                    let granted = try await client.send(.post, "/api/v1/auth/break-glass", token: porter,
                                                        json: ["patient_id": patient, "reason": "collapsed in the car park, needs allergy list"])
                    #expect(granted.status == .created)
                    let grantID = try #require(granted.json["id"] as? String)

                    #expect(try await client.send(.get, "/api/v1/patients/\(patient)", token: porter).status == .ok)
                    #expect(try await client.send(.get, "/api/v1/patients/\(other)", token: porter).status == .forbidden)
                    #expect(try await client.send(.get, "/api/v1/patients", token: porter).status == .forbidden)

                    let auditor = try await client.token("auditor@acme.test")
                    let denials = try await client.send(.get, "/api/v1/audit-events?outcome=denied&resource_type=/api/v1/auth/break-glass", token: auditor)
                    #expect((denials.json["items"] as? [[String: Any]])?.compactMap { $0["actor_name"] as? String } == ["Pat Porter"])
                    let log = try await client.send(.get, "/api/v1/patients/\(patient)/access-log", token: auditor)
                    let actions = (log.json["items"] as? [[String: Any]])?.compactMap { $0["action"] as? String } ?? []
                    #expect(Array(actions.prefix(2)) == ["read", "break_glass"])
                    let read = (log.json["items"] as? [[String: Any]])?.first
                    #expect((read?["details"] as? [String: String])?["break_glass_grant"] == grantID)

                    let pending = try await client.send(.get, "/api/v1/audit-events/break-glass", token: auditor)
                    #expect((pending.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [grantID])

                    // The grant lapses on the node's clock, not by waiting.
                    clock.advance(by: .seconds(61))
                    #expect(try await client.send(.get, "/api/v1/patients/\(patient)", token: porter).status == .forbidden)

                    let reviewed = try await client.send(.post, "/api/v1/audit-events/break-glass/\(grantID)/review", token: auditor, json: ["note": "justified"])
                    #expect(reviewed.status == .ok)
                    #expect(reviewed.json["reviewed_at"] as? String != nil)
                    #expect((try await client.send(.get, "/api/v1/audit-events/break-glass", token: auditor).json["items"] as? [[String: Any]])?.isEmpty == true)
                    #expect((try await client.send(.get, "/api/v1/audit-events/break-glass?reviewed=true", token: auditor).json["items"] as? [[String: Any]])?.count == 1)
                    #expect(try await client.send(.get, "/api/v1/audit-events/break-glass", token: porter).status == .forbidden)
                }
            }
        }
    }

    @Test("with read auditing off (benchmarks only) reads are not recorded, and production refuses the setting")
    func readsOff() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: ["WARD_AUDIT_READS": "false"]) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                try await node.staff("auditor@acme.test", roles: ["auditor"])
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test")
                    let patient = try await client.patient(doctor, ["given_name": "Ravi", "family_name": "Singh"])
                    #expect(try await client.send(.get, "/api/v1/patients/\(patient)", token: doctor).status == .ok)
                    let log = try await client.send(.get, "/api/v1/patients/\(patient)/access-log", token: try await client.token("auditor@acme.test"))
                    #expect((log.json["items"] as? [[String: Any]])?.compactMap { $0["action"] as? String } == ["create"])
                }
                #expect(node.services.settings.insecureSettings().contains { $0.hasPrefix("WARD_AUDIT_READS") })
            }
        }
    }
}

@Suite("Audit before answer")
struct AuditBeforeAnswerTests {
    @Test("when the audit commit fails, the read fails too: no patient data leaves unaudited", arguments: TestBackend.allCases)
    func failedAuditFailsRead(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                try await node.staff("auditor@acme.test", roles: ["auditor"])
                let storage = node.services.storage
                let space = storage.controlPlaneTarget.schema.map { "\"\($0)\"." } ?? ""
                try await node.test { client in
                    let token = try await client.token("doctor@acme.test"), auditor = try await client.token("auditor@acme.test")
                    let patient = try await client.patient(token, ["given_name": "Sara", "family_name": "Mensah"])
                    // A read's event is made durable in the node's journal: without it, no answer.
                    // (On PostgreSQL the journal holds a row per group commit.)
                    let journal = backend == .postgres ? "audit_journal_batches" : "audit_journal"
                    try await storage.controlPlane.transaction { database in
                        try await database.raw("ALTER TABLE \(unsafeRaw: space)\(unsafeRaw: journal) RENAME TO audit_journal_away").run()
                    }
                    let read = try await client.send(.get, "/api/v1/patients/\(patient)", token: token)
                    #expect(read.status == .internalServerError)
                    #expect(!read.text.contains("Mensah"))
                    try await storage.controlPlane.transaction { database in
                        try await database.raw("ALTER TABLE \(unsafeRaw: space)audit_journal_away RENAME TO \(unsafeRaw: journal)").run()
                    }
                    #expect(try await client.send(.get, "/api/v1/patients/\(patient)", token: token).status == .ok)

                    // A tenant's trail that cannot take events for now loses none: the journal
                    // holds them until it can, and the access log is refused until then.
                    let scope = try await storage.tenants.activeScope(slug: "acme")
                    try await scope.transaction { database in try await database.raw("ALTER TABLE audit_events RENAME TO audit_events_away").run() }
                    #expect(try await client.send(.get, "/api/v1/patients/\(patient)", token: token).status == .ok)
                    #expect(try await client.send(.get, "/api/v1/patients/\(patient)/access-log", token: auditor).status == .internalServerError)
                    try await scope.transaction { database in try await database.raw("ALTER TABLE audit_events_away RENAME TO audit_events").run() }
                    let log = try await client.send(.get, "/api/v1/patients/\(patient)/access-log", token: auditor)
                    #expect((log.json["items"] as? [[String: Any]])?.compactMap { $0["action"] as? String } == ["read", "read", "create"])
                }
            }
        }
    }
}
