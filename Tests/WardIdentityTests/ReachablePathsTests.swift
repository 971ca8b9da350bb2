import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardAudit
import WardServer
import WardTestSupport

@Suite("Paths a user can reach")
struct ReachablePathsTests {
    @Test("platform logins fail uniformly and lock after repeated failures", arguments: TestBackend.allCases)
    func platformLockout(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: ["WARD_AUTH_LOCKOUT_THRESHOLD": "2"]) { node in
                try await node.services.identity.createPlatformAdmin(email: "ops@ward.test", name: "Ops", password: goodPassword)
                try await node.test { client in
                    func login(_ email: String, _ password: String) async throws -> TestResponse {
                        let body = try JSONSerialization.data(withJSONObject: ["email": email, "password": password])
                        return try await client.execute(uri: "/platform/v1/auth/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body))
                    }
                    let wrong = try await login("ops@ward.test", "not-the-right-password")
                    let unknown = try await login("nobody@ward.test", goodPassword)
                    #expect(wrong.status == .unauthorized && unknown.status == .unauthorized)
                    #expect(wrong.json["title"] as? String == unknown.json["title"] as? String)
                    _ = try await login("ops@ward.test", "not-the-right-password")
                    let locked = try await login("ops@ward.test", goodPassword)
                    #expect(locked.status == .tooManyRequests)
                    #expect(locked.headers[.retryAfter] != nil)
                }
            }
        }
    }

    @Test("a suspended tenant's valid token is refused, and the tenant resumes intact", arguments: TestBackend.allCases)
    func suspendedTenant(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("admin@acme.test", roles: ["tenant_admin"])
                let lifecycle = node.services.lifecycle
                try await node.test { client in
                    let token = try await client.tokens("admin@acme.test").access
                    #expect(try await client.call(.get, "/api/v1/users", token: token).status == .ok)

                    try await lifecycle.suspend("acme", by: .system)
                    let refused = try await client.call(.get, "/api/v1/users", token: token)
                    #expect(refused.status == .forbidden)
                    #expect(refused.json["title"] as? String == "Tenant suspended")
                    #expect(try await client.login("admin@acme.test").status == .unauthorized)

                    try await lifecycle.resume("acme", by: .system)
                    let resumed = try await client.call(.get, "/api/v1/users", token: token)
                    #expect(resumed.status == .ok)
                    #expect((resumed.json["items"] as? [[String: Any]])?.first?["email"] as? String == "admin@acme.test")
                }
            }
        }
    }

    @Test("management calls on unknown ids or with bad values answer 404 or 422 and change nothing", arguments: TestBackend.allCases)
    func managementErrors(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                let admin = try await node.user("admin@acme.test", roles: ["tenant_admin"])
                try await node.test { client in
                    let token = try await client.tokens("admin@acme.test").access
                    let unknown = "01a20000-0000-7000-8000-000000000000"
                    #expect(try await client.call(.get, "/api/v1/users/\(unknown)", token: token).status == .notFound)
                    #expect(try await client.call(.patch, "/api/v1/users/\(unknown)", token: token, json: ["name": "X"]).status == .notFound)
                    #expect(try await client.call(.put, "/api/v1/users/\(admin)/roles/no_such_role", token: token).status == .notFound)
                    #expect(try await client.call(.patch, "/api/v1/users/\(admin)", token: token, json: ["status": "asleep"]).status == .unprocessableContent)
                    #expect(try await client.call(.post, "/api/v1/roles", token: token, json: ["name": "x", "permissions": []]).status == .unprocessableContent)
                    #expect(try await client.call(.post, "/api/v1/roles", token: token, json: ["name": "clerks", "permissions": ["fly:planes"]]).status == .unprocessableContent)
                    let me = try await client.call(.get, "/api/v1/users/\(admin)", token: token)
                    #expect(me.json["status"] as? String == "active")
                    #expect(me.json["roles"] as? [String] == ["tenant_admin"])
                    let roles = try await client.call(.get, "/api/v1/roles", token: token)
                    #expect((roles.json["items"] as? [[String: Any]])?.count == 7)
                }
            }
        }
    }
}
