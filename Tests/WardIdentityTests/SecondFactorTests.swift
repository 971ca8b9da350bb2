import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdOTP
import HummingbirdTesting
import Testing
import WardCore
import WardTestSupport
@testable import WardIdentity

@Suite("Second factor, password reset and platform administrators")
struct SecondFactorTests {
    /// The code an authenticator app shows for a base32 seed, `offset` steps from now.
    static func code(base32 seed: String, offset: Int = 0) -> String {
        Authenticator.code(base32: seed, offset: offset)
    }

    @Test("TOTP enrolment, confirmation, login with a code, single use, and recovery codes", arguments: TestBackend.allCases)
    func totp(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("doctor@acme.test", roles: ["doctor"])
                try await node.test { client in
                    let token = try await client.tokens("doctor@acme.test").access
                    let enrolment = try await client.call(.post, "/api/v1/auth/totp/enrol", token: token)
                    #expect(enrolment.status == .ok)
                    let seed = try #require(enrolment.json["secret"] as? String)
                    #expect((enrolment.json["otpauth_uri"] as? String)?.hasPrefix("otpauth://totp/") == true)

                    // Until confirmed, logins need no code.
                    #expect(try await client.login("doctor@acme.test").status == .ok)
                    let wrong = try await client.call(.post, "/api/v1/auth/totp/confirm", token: token, json: ["code": "000000" == Self.code(base32: seed) ? "111111" : "000000"])
                    #expect(wrong.status == .unprocessableContent)
                    let confirmed = try await client.call(.post, "/api/v1/auth/totp/confirm", token: token, json: ["code": Self.code(base32: seed)])
                    #expect(confirmed.status == .ok)
                    let recovery = try #require(confirmed.json["recovery_codes"] as? [String])
                    #expect(recovery.count == 10)
                    #expect(Set(recovery).count == 10)

                    let missing = try await client.login("doctor@acme.test")
                    #expect(missing.status == .unauthorized)
                    #expect(missing.json["title"] as? String == "Second factor required")

                    // The step used to confirm is spent; the next one logs in, once.
                    let next = Self.code(base32: seed, offset: 1)
                    let body = try JSONSerialization.data(withJSONObject: ["tenant": "acme", "email": "doctor@acme.test", "password": goodPassword, "totp": next])
                    let withCode = try await client.execute(uri: "/api/v1/auth/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body))
                    #expect(withCode.status == .ok)
                    let replay = try await client.execute(uri: "/api/v1/auth/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body))
                    #expect(replay.status == .unauthorized)

                    // A recovery code works once.
                    let recoveryBody = try JSONSerialization.data(withJSONObject: ["tenant": "acme", "email": "doctor@acme.test", "password": goodPassword, "totp": recovery[0].lowercased()])
                    #expect(try await client.execute(uri: "/api/v1/auth/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: recoveryBody)).status == .ok)
                    #expect(try await client.execute(uri: "/api/v1/auth/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: recoveryBody)).status == .unauthorized)

                    #expect(try await client.call(.post, "/api/v1/auth/totp/enrol", token: token).status == .conflict)
                }
            }
        }
    }

    @Test("in production a tenant_admin without a second factor holds no permission until enrolled")
    func adminNeedsSecondFactorInProduction() async throws {
        try await withTestSite(.sqlite) { site in
            let production = ["WARD_ENV": "production", "WARD_TRUST_PROXY": "true", "WARD_AUTH_BCRYPT_COST": "10"]
            try await TestNode.with(site, settings: production) { node in
                try await node.user("admin@acme.test", roles: ["tenant_admin"])
                try await node.test { client in
                    let token = try await client.tokens("admin@acme.test").access
                    let refused = try await client.call(.get, "/api/v1/users", token: token)
                    #expect(refused.status == .forbidden)
                    #expect(refused.json["title"] as? String == "Second factor required")

                    let seed = try #require(try await client.call(.post, "/api/v1/auth/totp/enrol", token: token).json["secret"] as? String)
                    #expect(try await client.call(.post, "/api/v1/auth/totp/confirm", token: token, json: ["code": Self.code(base32: seed)]).status == .ok)
                    #expect(try await client.call(.get, "/api/v1/users", token: token).status == .ok)
                }
            }
            // The same role in development needs no second factor.
            try await TestNode.with(site) { node in
                try await node.user("dev-admin@acme.test", roles: ["tenant_admin"])
                try await node.test { client in
                    let token = try await client.tokens("dev-admin@acme.test").access
                    let users = try await client.call(.get, "/api/v1/users", token: token)
                    #expect(users.status == .ok)
                }
            }
        }
    }

    @Test("a password reset token sets a new password once and ends the user's sessions", arguments: TestBackend.allCases)
    func passwordReset(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                let nurse = try await node.user("nurse@acme.test", roles: ["nurse"])
                try await node.user("admin@acme.test", roles: ["tenant_admin"])
                try await node.test { client in
                    let admin = try await client.tokens("admin@acme.test").access
                    let nurseSession = try await client.tokens("nurse@acme.test")
                    let issued = try await client.call(.post, "/api/v1/users/\(nurse)/password-reset", token: admin)
                    #expect(issued.status == .created)
                    let reset = try #require(issued.json["token"] as? String)

                    func use(_ password: String) async throws -> TestResponse {
                        let body = try JSONSerialization.data(withJSONObject: ["token": reset, "password": password])
                        return try await client.execute(uri: "/api/v1/auth/password-reset", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body))
                    }
                    #expect(try await use("short").status == .unprocessableContent)
                    #expect(try await use("brand-new-quiet-harbour").status == .noContent)
                    #expect(try await use("another-new-quiet-harbour").status == .unauthorized)

                    #expect(try await client.login("nurse@acme.test").status == .unauthorized)
                    #expect(try await client.login("nurse@acme.test", password: "brand-new-quiet-harbour").status == .ok)
                    #expect(try await client.call(.get, "/api/v1/auth/status", token: nurseSession.access).status == .unauthorized)
                }
            }
        }
    }

    @Test("a platform token reaches no tenant route and a tenant token no platform route", arguments: TestBackend.allCases)
    func platformSeparation(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("admin@acme.test", roles: ["tenant_admin"])
                try await node.services.identity.createPlatformAdmin(email: "ops@ward.test", name: "Ops", password: goodPassword)
                try await node.test { client in
                    let body = try JSONSerialization.data(withJSONObject: ["email": "ops@ward.test", "password": goodPassword])
                    let login = try await client.execute(uri: "/platform/v1/auth/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body))
                    #expect(login.status == .ok)
                    let platform = try #require(login.json["access_token"] as? String)
                    let tenant = try await client.tokens("admin@acme.test").access

                    let tenants = try await client.call(.get, "/platform/v1/tenants", token: platform)
                    #expect(tenants.status == .ok)
                    #expect((tenants.json["items"] as? [[String: Any]])?.first?["slug"] as? String == "acme")

                    #expect(try await client.call(.get, "/platform/v1/tenants", token: tenant).status == .unauthorized)
                    #expect(try await client.call(.get, "/api/v1/users", token: platform).status == .unauthorized)
                    #expect(try await client.call(.get, "/api/v1/auth/status", token: platform, headers: [HTTPField.Name("X-Tenant-ID")!: "acme"]).status == .unauthorized)
                    // Tenant users are not administrators, even with the same password.
                    let tenantUserAsAdmin = try JSONSerialization.data(withJSONObject: ["email": "admin@acme.test", "password": goodPassword])
                    #expect(try await client.execute(uri: "/platform/v1/auth/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: tenantUserAsAdmin)).status == .unauthorized)
                }
            }
        }
    }
}

@Suite("Roles that require a second factor")
struct RequiredSecondFactorTests {
    @Test("a custom role can require a second factor: its holders have no permission until enrolled", arguments: TestBackend.allCases)
    func customRole(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("admin@acme.test", roles: ["tenant_admin"])
                let clerk = try await node.user("clerk@acme.test", roles: [])
                try await node.test { client in
                    let admin = try await client.tokens("admin@acme.test").access
                    let role = try await client.call(.post, "/api/v1/roles", token: admin, json: [
                        "name": "records_officer", "permissions": ["reports:read"], "requires_second_factor": true,
                    ])
                    #expect(role.status == .created)
                    #expect(role.json["requires_second_factor"] as? Bool == true)
                    #expect(try await client.call(.put, "/api/v1/users/\(clerk)/roles/records_officer", token: admin).status == .ok)

                    let token = try await client.tokens("clerk@acme.test").access
                    let status = try await client.call(.get, "/api/v1/auth/status", token: token)
                    #expect((status.json["permissions"] as? [String])?.isEmpty == true)
                    let seed = try #require(try await client.call(.post, "/api/v1/auth/totp/enrol", token: token).json["secret"] as? String)
                    #expect(try await client.call(.post, "/api/v1/auth/totp/confirm", token: token, json: ["code": SecondFactorTests.code(base32: seed)]).status == .ok)
                    let after = try await client.call(.get, "/api/v1/auth/status", token: token)
                    #expect(after.json["permissions"] as? [String] == ["reports:read"])
                }
            }
        }
    }
}
