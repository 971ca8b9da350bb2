import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardAudit
import WardTestSupport

/// What an attacker or a fuzzer sends: ids of any length, NUL bytes, spreadsheet formulas,
/// wrong methods and media types. Each is refused with a problem that names what is wrong (or,
/// for the export, made harmless), identically on both databases, and the tenant keeps working.
@Suite("Hostile input")
struct HostileInputTests {
    @Test("a 3,000-character patient id is refused before any work, and the tenant's reads, logins and writes go on", arguments: TestBackend.allCases)
    func longIdentifier(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test")
                    let patient = try await client.patient(doctor, ["given_name": "Lena", "family_name": "Fischer"])
                    let long = String(repeating: "a", count: 3000)
                    for path in ["/api/v1/patients/\(long)", "/api/v1/patients/\(long)/prescriptions", "/api/v1/appointments?patient_id=\(long)"] {
                        let refused = try await client.send(.get, path, token: doctor)
                        #expect(refused.status == .badRequest, "\(path.prefix(40))")
                        #expect(refused.headers[.contentType] == "application/problem+json")
                    }
                    let named = try await client.send(.get, "/api/v1/patients/\(long)", token: doctor)
                    #expect((named.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "id")
                    // Then, and after the audit writer's next batches, the tenant works as before.
                    for _ in 0..<3 {
                        #expect(try await client.send(.get, "/api/v1/patients/\(patient)", token: doctor).status == .ok)
                    }
                    #expect(try await client.token("doctor@acme.test").isEmpty == false)
                    #expect(try await client.send(.post, "/api/v1/patients", token: doctor, json: ["given_name": "Ola", "family_name": "Berg"]).status == .created)
                }
            }
        }
    }

    @Test("a NUL or another control character is refused at the edge with the field named, and nothing is stored", arguments: TestBackend.allCases)
    func controlCharacters(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                try await node.staff("auditor@acme.test", roles: ["auditor"])
                try await node.staff("admin@acme.test", roles: ["tenant_admin"])
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test"), auditor = try await client.token("auditor@acme.test")
                    let admin = try await client.token("admin@acme.test")
                    let patient = try await client.patient(doctor, ["given_name": "Lena", "family_name": "Fischer"])
                    let before = try await client.send(.get, "/api/v1/patients", token: doctor).json["items"] as? [[String: Any]]

                    // Bodies: the field is named, whatever its depth.
                    let bodies: [(String, Any, String, String)] = [
                        ("/api/v1/patients", ["given_name": "A\u{0}B", "family_name": "C"], "given_name", doctor),
                        ("/api/v1/patients", ["given_name": "A", "family_name": "C", "metadata": ["note": "x\u{1}"]], "metadata.note", doctor),
                        ("/api/v1/auth/break-glass", ["patient_id": patient, "reason": "patient collapsed \u{0} in the ward"], "reason", doctor),
                        ("/api/v1/practitioners", ["name": "Dr\u{0}"], "name", admin),
                    ]
                    for (path, body, field, token) in bodies {
                        let refused = try await client.send(.post, path, token: token, json: body)
                        #expect(refused.status == .unprocessableContent, "\(path) \(field)")
                        #expect((refused.json["errors"] as? [[String: Any]])?.first?["field"] as? String == field)
                    }
                    // Names refuse tabs and line breaks too; free text keeps them.
                    let tabbed = try await client.send(.post, "/api/v1/patients", token: doctor, json: ["given_name": "A\tB", "family_name": "C"])
                    #expect(tabbed.status == .unprocessableContent)
                    let addressed = try await client.send(.post, "/api/v1/patients", token: doctor, json: ["given_name": "Ana", "family_name": "Costa", "address": "1 Rua\nLisboa"])
                    #expect(addressed.status == .created)

                    // Queries: the parameter is named.
                    for (path, token, field) in [("/api/v1/patients?q=a%00b", doctor, "q"), ("/api/v1/medications?q=%00", doctor, "q"),
                                                 ("/api/v1/appointments?status=booked%00", doctor, "status"),
                                                 ("/api/v1/audit-events?action=read%00", auditor, "action"),
                                                 ("/api/v1/audit-events?anything=%01", auditor, "anything")] {
                        let refused = try await client.send(.get, path, token: token)
                        #expect(refused.status == .badRequest, "\(path)")
                        #expect((refused.json["errors"] as? [[String: Any]])?.first?["field"] as? String == field, "\(path)")
                    }
                    let after = try await client.send(.get, "/api/v1/patients", token: doctor).json["items"] as? [[String: Any]]
                    #expect(after?.count == (before?.count ?? 0) + 1, "only the valid registration was stored")
                }
            }
        }
    }

    @Test("a wrong method answers 405 with Allow (TRACE too), a body that is not JSON 415, an unknown path 404")
    func httpSemantics() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test")
                    let deleted = try await client.send(.delete, "/api/v1/patients", token: doctor)
                    #expect(deleted.status == .methodNotAllowed)
                    #expect(deleted.headers[.allow] == "GET, POST")
                    #expect(deleted.headers[.contentType] == "application/problem+json")
                    let traced = try await client.execute(uri: "/api/v1/patients/0192c0de-0000-7000-8000-000000000000", method: .trace, headers: [:], body: nil)
                    #expect(traced.status == .methodNotAllowed)
                    #expect(traced.headers[.allow] == "GET, PATCH")
                    #expect(try await client.send(.get, "/api/v1/nothing-here", token: doctor).status == .notFound)

                    let plain = try await client.execute(uri: "/api/v1/patients", method: .post,
                                                         headers: [.authorization: "Bearer \(doctor)", .contentType: "text/plain"],
                                                         body: ByteBuffer(string: #"{"given_name":"A","family_name":"B"}"#))
                    #expect(plain.status == .unsupportedMediaType)
                    let untyped = try await client.execute(uri: "/api/v1/patients", method: .post, headers: [.authorization: "Bearer \(doctor)"],
                                                           body: ByteBuffer(string: #"{"given_name":"A","family_name":"B"}"#))
                    #expect(untyped.status == .unsupportedMediaType)
                    let charset = try await client.execute(uri: "/api/v1/patients", method: .post,
                                                           headers: [.authorization: "Bearer \(doctor)", .contentType: "application/json; charset=utf-8"],
                                                           body: ByteBuffer(string: #"{"given_name":"A","family_name":"B"}"#))
                    #expect(charset.status == .created)
                }
            }
        }
    }

    @Test("the CSV export is read back by Python's csv module with every row whole and no cell a formula", arguments: TestBackend.allCases)
    func csvExport(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.staff("auditor@acme.test", roles: ["auditor"])
                let scope = try await node.services.storage.tenants.activeScope(slug: "acme")
                let hostile = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=2", "a\rb", "c\nd", "e\r\nf", "g,\"h\"", "\"quoted\""]
                for (index, value) in hostile.enumerated() {
                    try await node.services.audit.record(AuditRecord(actorID: value, actorName: value, action: "read", resourceType: "patient",
                                                                     resourceID: value, reason: value, requestID: "r\(index)"), in: scope)
                }
                try await node.test { client in
                    let auditor = try await client.token("auditor@acme.test")
                    let export = try await client.send(.get, "/api/v1/audit-events/export?format=csv", token: auditor)
                    #expect(export.status == .ok)
                    #expect(export.headers[.contentType] == "text/csv; charset=utf-8")
                    let rows = try await Self.parseCSV(export.text)
                    #expect(rows.first?.first == "seq")
                    let requestIDs = Set(hostile.indices.map { "r\($0)" })
                    #expect(rows.filter { $0.count > 14 && requestIDs.contains($0[14]) }.count == hostile.count, "each hostile event is one row")
                    #expect(rows.allSatisfy { $0.count == 16 })
                    let formulaStarts: Set<Character> = ["=", "+", "-", "@", "\t", "\r"]
                    #expect(rows.joined().allSatisfy { cell in cell.first.map { !formulaStarts.contains($0) } ?? true })
                    // The text survives, behind its apostrophe.
                    #expect(rows.contains { $0[5] == "'=HYPERLINK(\"http://x\")" })
                    #expect(rows.contains { $0[5] == "c\nd" })
                }
            }
        }
    }

    /// Rows of `text` as Python's csv module reads them.
    static func parseCSV(_ text: String) async throws -> [[String]] {
        try await offThePool { try parseCSVBlocking(text) }
    }

    private static func parseCSVBlocking(_ text: String) throws -> [[String]] {
        let process = TestProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import csv, io, json, sys; print(json.dumps(list(csv.reader(io.StringIO(sys.stdin.read(), newline='')))))"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.runAlone()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try JSONDecoder().decode([[String]].self, from: data)
    }
}
