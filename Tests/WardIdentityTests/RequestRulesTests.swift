import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardTestSupport

/// The rules identity requests are held to, as the OpenAPI document states them: fields the
/// schema names and no others, no null where none is allowed, lengths in code points, one
/// email rule, role names unique (409), X-Tenant-ID a slug as written.
@Suite("Identity request rules")
struct RequestRulesTests {
    @Test("unknown fields and nulls are refused with 422 naming the field, before anything changes", arguments: TestBackend.allCases)
    func unknownFieldsAndNulls(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                let id = try await node.user("admin@acme.test", roles: ["tenant_admin"], name: "Ada Admin")
                try await node.test { client in
                    let admin = try await client.tokens("admin@acme.test").access
                    let login = try await client.execute(uri: "/api/v1/auth/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: [
                        "tenant": "acme", "email": "admin@acme.test", "password": goodPassword, "remember_me": true,
                    ])))
                    #expect(login.status == .unprocessableContent)
                    #expect(login.json["errors"] as? [[String: String]] == [["field": "remember_me", "message": "is not a field of this request"]])

                    let renamed = try await client.call(.patch, "/api/v1/users/\(id)", token: admin, json: ["name": NSNull(), "status": "active"])
                    #expect(renamed.status == .unprocessableContent)
                    #expect(renamed.json["errors"] as? [[String: String]] == [["field": "name", "message": "must not be null"]])
                    let user = try await client.call(.get, "/api/v1/users/\(id)", token: admin)
                    #expect(user.json["name"] as? String == "Ada Admin")
                }
            }
        }
    }

    @Test("passwords count code points; names and emails follow the one rule the document shows", arguments: TestBackend.allCases)
    func passwordsNamesEmails(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("admin@acme.test", roles: ["tenant_admin"])
                try await node.test { client in
                    let admin = try await client.tokens("admin@acme.test").access
                    func create(_ email: String, _ name: String, _ password: String = goodPassword) async throws -> TestResponse {
                        try await client.call(.post, "/api/v1/users", token: admin, json: ["email": email, "name": name, "password": password])
                    }
                    // Six flags are twelve code points (NIST SP 800-63B counts each as a character).
                    #expect(try await create("flags@acme.test", "Flag Person", "🇫🇷🇩🇪🇮🇹🇪🇸🇵🇹🇬🇷").status == .created)
                    let short = try await create("short@acme.test", "Short Person", "é" + String(repeating: "x", count: 10))
                    #expect(short.status == .unprocessableContent)
                    for email in ["nurse@acme.test\n", " nurse@acme.test", "nurse@acme.", "nurse@acme test.org", "@acme.test"] {
                        let refused = try await create(email, "Night Nurse")
                        #expect(refused.status == .unprocessableContent, "\(email)")
                        #expect((refused.json["errors"] as? [[String: String]])?.first?["field"] == "email", "\(email)")
                    }
                    for name in ["", "   ", "Night\tNurse", String(repeating: "n", count: 201)] {
                        let refused = try await create("nurse@acme.test", name)
                        #expect(refused.status == .unprocessableContent, "\(name.prefix(10))")
                        #expect((refused.json["errors"] as? [[String: String]])?.first?["field"] == "name")
                    }
                    #expect(try await create("nurse@acme.test", String(repeating: "n", count: 200)).status == .created)
                }
            }
        }
    }

    @Test("a role name already taken answers 409; a description is refused past 500 characters, not cut", arguments: TestBackend.allCases)
    func roles(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("admin@acme.test", roles: ["tenant_admin"])
                try await node.test { client in
                    let admin = try await client.tokens("admin@acme.test").access
                    let role: [String: Any] = ["name": "ward_clerk", "description": "Reads patients", "permissions": ["patients:read"]]
                    #expect(try await client.call(.post, "/api/v1/roles", token: admin, json: role).status == .created)
                    let again = try await client.call(.post, "/api/v1/roles", token: admin, json: role)
                    #expect(again.status == .conflict)
                    #expect((again.json["errors"] as? [[String: String]])?.first?["field"] == "name")
                    #expect(try await client.call(.post, "/api/v1/roles", token: admin, json: ["name": "doctor", "permissions": []]).status == .conflict)
                    let long = try await client.call(.post, "/api/v1/roles", token: admin,
                                                     json: ["name": "porter", "description": String(repeating: "d", count: 501), "permissions": []])
                    #expect(long.status == .unprocessableContent)
                    #expect((long.json["errors"] as? [[String: String]])?.first?["field"] == "description")
                }
            }
        }
    }

    @Test("X-Tenant-ID must be a slug as written (400); a slug naming another tenant than the token's is 403", arguments: TestBackend.allCases)
    func tenantHeader(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("doctor@acme.test", roles: ["doctor"])
                try await node.test { client in
                    let doctor = try await client.tokens("doctor@acme.test").access
                    let header = HTTPField.Name("X-Tenant-ID")!
                    for value in ["", "ACME", "ac", "acme--north", "{}"] {
                        let refused = try await client.call(.get, "/api/v1/auth/status", token: doctor, headers: [header: value])
                        #expect(refused.status == .badRequest, "\(value)")
                        #expect((refused.json["errors"] as? [[String: String]])?.first?["field"] == "X-Tenant-ID", "\(value)")
                    }
                    #expect(try await client.call(.get, "/api/v1/auth/status", token: doctor, headers: [header: "other-clinic"]).status == .forbidden)
                    #expect(try await client.call(.get, "/api/v1/auth/status", token: doctor, headers: [header: "acme"]).status == .ok)
                    #expect(try await client.login("doctor@acme.test", headers: [header: "ACME"]).status == .badRequest)
                }
            }
        }
    }
}
