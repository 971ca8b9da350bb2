import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing
import WardHTTP
import WardServer
import WardTestSupport
@testable import WardIdentity
import WardKit

@Suite("Authorization")
struct AuthorizationTests {
    /// A request that reaches `operation`: path parameters filled, an empty JSON body.
    static func uri(_ operation: APIOperation) -> String {
        operation.path.replacingOccurrences(of: "{id}", with: "01a20000-0000-7000-8000-000000000000")
            .replacingOccurrences(of: "{role}", with: "doctor").replacingOccurrences(of: "{name}", with: "no_such_role")
    }

    @Test("every built-in role against every route: 403 exactly where the role lacks the route's permission", arguments: TestBackend.allCases)
    func permissionMatrix(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                let catalogue = node.services.node.catalogue
                for role in BuiltInRole.allCases { try await node.user("\(role.rawValue)@acme.test", roles: [role.rawValue]) }
                let guarded = try WardApplication.operations.filter { $0.permission != nil }
                #expect(guarded.count >= 10)
                try await node.test { client in
                    for role in BuiltInRole.allCases {
                        let token = try await client.tokens("\(role.rawValue)@acme.test").access
                        for operation in guarded {
                            let method = HTTPRequest.Method(rawValue: operation.method.rawValue.uppercased())!
                            let needsBody = [.post, .put, .patch].contains(operation.method)
                            let response = try await client.call(method, Self.uri(operation), token: token, json: needsBody ? [:] : nil)
                            let allowed = catalogue.permissions(of: role).contains(operation.permission!)
                            #expect((response.status == .forbidden) == !allowed,
                                    "\(role.rawValue) \(operation.method.rawValue) \(operation.path) → \(response.status.code)")
                            #expect(response.status != .unauthorized)
                        }
                    }
                }
            }
        }
    }

    @Test("the roles the migrations seed are exactly the built-in roles the modules declare, and provisioning adds nothing to them",
          arguments: TestBackend.allCases)
    func seededRoles(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                let catalogue = node.services.node.catalogue, tenants = node.services.storage.tenants
                // Migrations alone, without provisioning's catalogue seed.
                _ = try await tenants.reserve(slug: "bare", name: "Bare", status: .provisioning)
                try await tenants.placeOnShard("bare")
                let bare = try #require(try await tenants.fetch(slug: "bare"))
                try await tenants.createDatabase(for: bare)
                try await tenants.migrate(bare)
                try await node.user("admin@acme.test", roles: ["tenant_admin"])
                for scope in [try await tenants.scope(for: try #require(try await tenants.fetch(slug: "bare"))), try await tenants.activeScope(slug: "acme")] {
                    let roles = try await node.services.identity.roles(in: scope)
                    #expect(Set(roles.map(\.name)) == Set(BuiltInRole.allCases.map(\.rawValue)))
                    for role in BuiltInRole.allCases {
                        let seeded = roles.first { $0.name == role.rawValue }
                        #expect(Set(seeded?.permissions ?? []) == catalogue.permissions(of: role), "\(scope.tenant.slug) \(role.rawValue)")
                        #expect(seeded?.builtIn == true)
                    }
                }
            }
        }
    }

    @Test("a token of tenant A never reaches tenant B, whatever headers it sends", arguments: TestBackend.allCases)
    func tenantIsolation(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("admin@acme.test", roles: ["tenant_admin"], tenant: "acme")
                try await node.user("admin@beta.test", roles: ["tenant_admin"], tenant: "beta")
                try await node.user("other@beta.test", roles: ["nurse"], tenant: "beta")
                try await node.test { client in
                    let acme = try await client.tokens("admin@acme.test", tenant: "acme").access

                    let own = try await client.call(.get, "/api/v1/users", token: acme)
                    let emails = (own.json["items"] as? [[String: Any]])?.compactMap { $0["email"] as? String }
                    #expect(emails == ["admin@acme.test"])

                    let crossed = try await client.call(.get, "/api/v1/users", token: acme, headers: [HTTPField.Name("X-Tenant-ID")!: "beta"])
                    #expect(crossed.status == .forbidden)
                    #expect(!crossed.text.contains("beta.test"))

                    // The same email at another tenant is another account.
                    #expect(try await client.login("admin@acme.test", tenant: "beta").status == .unauthorized)
                }
            }
        }
    }

    @Test("a role change takes effect on the user's next request", arguments: TestBackend.allCases)
    func roleChangeTakesEffect(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                let nurse = try await node.user("nurse@acme.test", roles: ["nurse"])
                try await node.user("admin@acme.test", roles: ["tenant_admin"])
                try await node.test { client in
                    let nurseToken = try await client.tokens("nurse@acme.test").access
                    let admin = try await client.tokens("admin@acme.test").access
                    #expect(try await client.call(.get, "/api/v1/roles", token: nurseToken).status == .forbidden)

                    #expect(try await client.call(.put, "/api/v1/users/\(nurse)/roles/tenant_admin", token: admin).status == .ok)
                    #expect(try await client.call(.get, "/api/v1/roles", token: nurseToken).status == .ok)

                    #expect(try await client.call(.delete, "/api/v1/users/\(nurse)/roles/tenant_admin", token: admin).status == .ok)
                    #expect(try await client.call(.get, "/api/v1/roles", token: nurseToken).status == .forbidden)

                    // A custom role's permissions changing reaches its holders too.
                    let created = try await client.call(.post, "/api/v1/roles", token: admin, json: ["name": "ward_clerk", "permissions": ["reports:read"]])
                    #expect(created.status == .created)
                    #expect(try await client.call(.put, "/api/v1/users/\(nurse)/roles/ward_clerk", token: admin).status == .ok)
                    #expect(try await client.call(.get, "/api/v1/users", token: nurseToken).status == .forbidden)
                    let widened = try await client.call(.put, "/api/v1/roles/ward_clerk/permissions", token: admin, json: ["permissions": ["users:manage"]])
                    #expect(widened.status == .ok)
                    #expect(try await client.call(.get, "/api/v1/users", token: nurseToken).status == .ok)
                    #expect(try await client.call(.put, "/api/v1/roles/doctor/permissions", token: admin, json: ["permissions": []]).status == .conflict)
                }
            }
        }
    }

    @Test("the last tenant_admin cannot be disabled or demoted", arguments: TestBackend.allCases)
    func lastAdmin(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                let admin = try await node.user("admin@acme.test", roles: ["tenant_admin"])
                try await node.test { client in
                    let token = try await client.tokens("admin@acme.test").access
                    #expect(try await client.call(.patch, "/api/v1/users/\(admin)", token: token, json: ["status": "disabled"]).status == .conflict)
                    // Demoting oneself is refused before the count: nobody changes their own roles.
                    #expect(try await client.call(.delete, "/api/v1/users/\(admin)/roles/tenant_admin", token: token).status == .forbidden)

                    let created = try await client.call(.post, "/api/v1/users", token: token, json: [
                        "email": "second@acme.test", "name": "Second Admin", "password": goodPassword, "roles": ["tenant_admin"],
                    ])
                    #expect(created.status == .created)
                    // Nobody changes their own roles, even with another administrator left.
                    #expect(try await client.call(.delete, "/api/v1/users/\(admin)/roles/tenant_admin", token: token).status == .forbidden)
                    let second = try await client.tokens("second@acme.test").access
                    #expect(try await client.call(.delete, "/api/v1/users/\(admin)/roles/tenant_admin", token: second).status == .ok)
                }
            }
        }
    }

    @Test("each password rule is enforced and named", arguments: TestBackend.allCases)
    func passwordRules(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("admin@acme.test", roles: ["tenant_admin"])
                try await node.test { client in
                    let token = try await client.tokens("admin@acme.test").access
                    let cases: [(String, String)] = [
                        ("short-pw", "at least 12 characters"),
                        (String(repeating: "x", count: 129), "at most 128 characters"),
                        ("ellen.ripley-2026-nostromo", "must not contain the email address"),
                        ("my-name-is-ripley-ok", "must not contain the user's name"),
                        ("password1234", "too common"),
                    ]
                    for (password, rule) in cases {
                        let response = try await client.call(.post, "/api/v1/users", token: token, json: [
                            "email": "ellen.ripley@acme.test", "name": "Ellen Ripley", "password": password, "roles": ["nurse"],
                        ])
                        #expect(response.status == .unprocessableContent, "\(rule)")
                        #expect((response.json["detail"] as? String)?.contains(rule) == true, "\(rule): \(response.text)")
                        #expect((response.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "password")
                    }
                    let accepted = try await client.call(.post, "/api/v1/users", token: token, json: [
                        "email": "ellen.ripley@acme.test", "name": "Ellen Ripley", "password": goodPassword, "roles": ["nurse"],
                    ])
                    #expect(accepted.status == .created)
                    #expect(!accepted.text.contains("password_hash"))
                    let tooMany = try await client.call(.post, "/api/v1/users", token: token, json: [
                        "email": "many@acme.test", "name": "Many Roles", "password": goodPassword, "roles": Array(repeating: "nurse", count: 21),
                    ])
                    #expect(tooMany.status == .unprocessableContent)
                    let duplicate = try await client.call(.post, "/api/v1/users", token: token, json: [
                        "email": "ELLEN.RIPLEY@acme.test", "name": "Ellen Again", "password": goodPassword,
                    ])
                    #expect(duplicate.status == .conflict)
                }
            }
        }
    }

    @Test("a token signed with a rotated-out key still verifies while listed as previous")
    func keyRotation() async throws {
        let old = await AccessTokens.make(secretKey: "old-secret-key-0123456789-abcdefghijklmnopq", previousKeys: [], lifetime: .seconds(60))
        let rotated = await AccessTokens.make(secretKey: "new-secret-key-0123456789-abcdefghijklmnopq",
                                              previousKeys: ["old-secret-key-0123456789-abcdefghijklmnopq"], lifetime: .seconds(60))
        let forgotten = await AccessTokens.make(secretKey: "new-secret-key-0123456789-abcdefghijklmnopq", previousKeys: [], lifetime: .seconds(60))

        let now = Date()
        let token = try await old.issue(user: "u1", tenant: "acme", session: "s1", now: now).token

        #expect(try await rotated.verify(token, now: now).sub.value == "u1")
        await #expect(throws: (any Error).self) { _ = try await forgotten.verify(token, now: now) }
        await #expect(throws: (any Error).self, "expired a minute on") { _ = try await rotated.verify(token, now: now.addingTimeInterval(62)) }
    }
}
