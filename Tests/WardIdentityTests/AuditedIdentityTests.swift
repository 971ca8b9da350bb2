import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardAudit
import WardTestSupport

@Suite("Identity events in the audit trail")
struct AuditedIdentityTests {
    @Test("logins, failures, logouts, refresh reuse, role changes and denials are audited with their fields", arguments: TestBackend.allCases)
    func identityEvents(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                let nurse = try await node.user("nurse@acme.test", roles: ["nurse"], name: "Nina Nurse")
                try await node.user("auditor@acme.test", roles: ["auditor", "tenant_admin"], name: "Ada Auditor")
                try await node.test { client in
                    _ = try await client.login("nurse@acme.test", password: "not-her-password-at-all")
                    _ = try await client.login("ghost@acme.test")
                    let session = try await client.tokens("nurse@acme.test")
                    _ = try await client.call(.get, "/api/v1/users", token: session.access, headers: [HTTPField.Name("X-Request-ID")!: "denied-1"])
                    _ = try await client.refresh(session.refresh)
                    _ = try await client.refresh(session.refresh)
                    let auditor = try await client.tokens("auditor@acme.test").access
                    _ = try await client.call(.put, "/api/v1/users/\(nurse)/roles/doctor", token: auditor)
                    _ = try await client.call(.post, "/api/v1/auth/logout", token: auditor)
                    let again = try await client.tokens("auditor@acme.test").access

                    let page = try await client.call(.get, "/api/v1/audit-events?limit=100", token: again)
                    #expect(page.status == .ok)
                    let all = try #require(page.json["items"] as? [[String: Any]])
                    func events(_ action: String) -> [[String: Any]] { all.filter { $0["action"] as? String == action } }

                    let failed = events("login_failed")
                    #expect(failed.count == 2)
                    #expect(failed.contains { $0["reason"] as? String == "wrong password" && $0["actor_id"] as? String == nurse && $0["outcome"] as? String == "denied" })
                    #expect(failed.contains { $0["reason"] as? String == "unknown email" })
                    let logins = events("login")
                    #expect(logins.count == 3)
                    #expect(logins.contains { $0["actor_name"] as? String == "Nina Nurse" && $0["resource_type"] as? String == "session" })
                    let denied = try #require(events("access").first)
                    #expect(denied["outcome"] as? String == "denied")
                    #expect(denied["request_id"] as? String == "denied-1")
                    #expect(denied["actor_roles"] as? [String] == ["nurse"])
                    #expect((denied["details"] as? [String: String])?["permission"] == "users:manage")
                    #expect(events("refresh_reuse").count == 1)
                    let change = try #require(events("permission_change").first)
                    #expect(change["resource_id"] as? String == nurse)
                    #expect((change["details"] as? [String: String])?["granted_role"] == "doctor")
                    #expect(events("logout").count == 1)
                    #expect(events("create").count == 2)

                    // Filters narrow the list; the cursor pages through it.
                    let onlyNurse = try await client.call(.get, "/api/v1/audit-events?actor_id=\(nurse)&action=login", token: again)
                    #expect((onlyNurse.json["items"] as? [[String: Any]])?.count == 1)
                    let first = try await client.call(.get, "/api/v1/audit-events?limit=3", token: again)
                    let cursor = try #require(first.json["next_cursor"] as? String)
                    let second = try await client.call(.get, "/api/v1/audit-events?limit=3&cursor=\(cursor)", token: again)
                    let firstSeqs = (first.json["items"] as? [[String: Any]])?.compactMap { $0["seq"] as? Int } ?? []
                    let secondSeqs = (second.json["items"] as? [[String: Any]])?.compactMap { $0["seq"] as? Int } ?? []
                    #expect(firstSeqs.count == 3 && secondSeqs.count == 3)
                    #expect((firstSeqs.min() ?? 0) > (secondSeqs.max() ?? .max))
                    #expect(try await client.call(.get, "/api/v1/audit-events?cursor=abc", token: again).status == .badRequest)
                    for limit in ["0", "501", "ten"] {
                        let refused = try await client.call(.get, "/api/v1/audit-events?limit=\(limit)", token: again)
                        #expect(refused.status == .badRequest && (refused.json["detail"] as? String) == "limit must be a whole number from 1 to 500.", "limit=\(limit)")
                    }
                    #expect(try await client.call(.get, "/api/v1/audit-events", token: session.access).status != .ok)
                }
                let scope = try await node.services.storage.tenants.activeScope(slug: "acme")
                let verification = try await AuditStore.verify(scope)
                #expect(verification.firstBreak == nil)
                #expect(verification.checked == 11)
            }
        }
    }

    @Test("the export streams the trail as NDJSON and CSV, and is itself audited", arguments: TestBackend.allCases)
    func export(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("auditor@acme.test", roles: ["auditor"], name: "=HYPERLINK(\"x\")")
                try await node.test { client in
                    let token = try await client.tokens("auditor@acme.test").access
                    let ndjson = try await client.call(.get, "/api/v1/audit-events/export", token: token)
                    #expect(ndjson.status == .ok)
                    #expect(ndjson.headers[.contentType] == "application/x-ndjson")
                    let lines = ndjson.text.split(separator: "\n")
                    #expect(lines.count >= 3)
                    for line in lines { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any]) }
                    #expect(lines.first?.contains("\"action\":\"export\"") == true)

                    let csv = try await client.call(.get, "/api/v1/audit-events/export?format=csv", token: token)
                    #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
                    let rows = csv.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
                    #expect(rows.first?.hasPrefix("seq,id,occurred_at") == true)
                    #expect(rows.count == lines.count + 2)
                    #expect(!csv.text.contains(",=HYPERLINK"))
                }
            }
        }
    }
}
