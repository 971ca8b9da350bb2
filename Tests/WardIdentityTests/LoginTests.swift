import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardTestSupport

@Suite("Login and sessions")
struct LoginTests {
    @Test("a login answers the contract's token shape; status names user, tenant, roles and permissions", arguments: TestBackend.allCases)
    func loginAndStatus(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("doctor@acme.test", roles: ["doctor"], name: "Dana Doctor")
                try await node.test { client in
                    let response = try await client.login("Doctor@Acme.test")
                    #expect(response.status == .ok)
                    #expect(response.json["token_type"] as? String == "Bearer")
                    #expect(response.json["expires_in"] as? Int == 900)
                    let access = try #require(response.json["access_token"] as? String)
                    #expect(access.split(separator: ".").count == 3)

                    let status = try await client.call(.get, "/api/v1/auth/status", token: access)
                    #expect(status.status == .ok)
                    #expect(status.json["tenant"] as? String == "acme")
                    #expect(status.json["roles"] as? [String] == ["doctor"])
                    #expect((status.json["permissions"] as? [String])?.contains("patients:read") == true)
                    #expect((status.json["permissions"] as? [String])?.contains("users:manage") == false)
                    #expect((status.json["user"] as? [String: Any])?["name"] as? String == "Dana Doctor")

                    // The scheme is case-insensitive and spaces around the token are not part of it;
                    // another scheme, or none, is no token.
                    for (header, accepted) in [("bearer  \(access) ", true), ("BEARER \(access)", true), ("Basic \(access)", false),
                                               ("Bearer", false), ("Bearer    ", false), ("Bearer\(access)", false)] {
                        let answer = try await client.execute(uri: "/api/v1/auth/status", method: .get, headers: [.authorization: header])
                        #expect(answer.status == (accepted ? .ok : .unauthorized), "\(header.prefix(12))")
                    }
                    // Two Authorization fields are read as one joined value, which is no token.
                    var twice = HTTPFields()
                    twice.append(HTTPField(name: .authorization, value: "Bearer \(access)"))
                    twice.append(HTTPField(name: .authorization, value: "Bearer \(access)"))
                    #expect(try await client.execute(uri: "/api/v1/auth/status", method: .get, headers: twice).status == .unauthorized)
                }
            }
        }
    }

    @Test("unknown user, wrong password and unknown tenant answer the same 401", arguments: TestBackend.allCases)
    func sameFailure(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("nurse@acme.test", roles: ["nurse"])
                try await node.test { client in
                    let wrongPassword = try await client.login("nurse@acme.test", password: "not-the-password-at-all")
                    let unknownUser = try await client.login("nobody@acme.test")
                    let unknownTenant = try await client.login("nurse@acme.test", tenant: "nowhere")
                    for response in [wrongPassword, unknownUser, unknownTenant] {
                        #expect(response.status == .unauthorized)
                        #expect(response.headers[.contentType] == "application/problem+json")
                        var body = response.json
                        body["request_id"] = nil
                        #expect(NSDictionary(dictionary: body) == NSDictionary(dictionary: {
                            var first = wrongPassword.json; first["request_id"] = nil; return first
                        }()))
                    }
                }
            }
        }
    }

    @Test("an access token stops working when it expires", arguments: TestBackend.allCases)
    func expiry(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: ["WARD_AUTH_ACCESS_TTL": "60"]) { node in
                // A 60-second token lives until the next whole second after 60 s: at most 61 s.
                // The node's clock is moved past that rather than waited out; the real time a
                // busy machine takes between calls stays far inside it.
                try await node.user("doctor@acme.test", roles: ["doctor"])
                let clock = node.clock
                try await node.test { client in
                    let tokens = try await client.tokens("doctor@acme.test")
                    #expect(try await client.call(.get, "/api/v1/auth/status", token: tokens.access).status == .ok)
                    clock.advance(by: .seconds(62))
                    let expired = try await client.call(.get, "/api/v1/auth/status", token: tokens.access)
                    #expect(expired.status == .unauthorized)
                    #expect(expired.headers[.contentType] == "application/problem+json")
                    // The session itself is alive: refreshing gives a working token.
                    let refreshed = try await client.refresh(tokens.refresh)
                    #expect(refreshed.status == .ok)
                    let access = try #require(refreshed.json["access_token"] as? String)
                    #expect(try await client.call(.get, "/api/v1/auth/status", token: access).status == .ok)
                }
            }
        }
    }

    @Test("logout ends the session: its access and refresh tokens stop working", arguments: TestBackend.allCases)
    func logout(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("doctor@acme.test", roles: ["doctor"])
                try await node.test { client in
                    let tokens = try await client.tokens("doctor@acme.test")
                    let other = try await client.tokens("doctor@acme.test")

                    #expect(try await client.call(.post, "/api/v1/auth/logout", token: tokens.access).status == .noContent)

                    #expect(try await client.call(.get, "/api/v1/auth/status", token: tokens.access).status == .unauthorized)
                    #expect(try await client.refresh(tokens.refresh).status == .unauthorized)
                    // Another session of the same user is untouched.
                    #expect(try await client.call(.get, "/api/v1/auth/status", token: other.access).status == .ok)
                }
            }
        }
    }

    @Test("a session ends after the inactivity timeout", arguments: TestBackend.allCases)
    func inactivity(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            // A minute of idleness, checked after gaps well inside and well beyond it on the
            // node's clock.
            try await TestNode.with(site, settings: ["WARD_AUTH_SESSION_IDLE": "60"]) { node in
                try await node.user("doctor@acme.test", roles: ["doctor"])
                let clock = node.clock
                try await node.test { client in
                    let tokens = try await client.tokens("doctor@acme.test")
                    // Use keeps it alive…
                    for _ in 0..<3 {
                        clock.advance(by: .seconds(40))
                        #expect(try await client.call(.get, "/api/v1/auth/status", token: tokens.access).status == .ok)
                    }
                    // …silence ends it.
                    clock.advance(by: .seconds(70))
                    let idle = try await client.call(.get, "/api/v1/auth/status", token: tokens.access)
                    #expect(idle.status == .unauthorized)
                    #expect((idle.json["detail"] as? String)?.contains("without use") == true)
                }
            }
        }
    }

    @Test("a session ends at its absolute limit however busy it is", arguments: TestBackend.allCases)
    func absoluteLimit(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: ["WARD_AUTH_SESSION_MAX": "60"]) { node in
                try await node.user("doctor@acme.test", roles: ["doctor"])
                let clock = node.clock
                try await node.test { client in
                    let tokens = try await client.tokens("doctor@acme.test")
                    #expect(try await client.call(.get, "/api/v1/auth/status", token: tokens.access).status == .ok)
                    clock.advance(by: .seconds(70))
                    #expect(try await client.call(.get, "/api/v1/auth/status", token: tokens.access).status == .unauthorized)
                    #expect(try await client.refresh(tokens.refresh).status == .unauthorized)
                }
            }
        }
    }

    @Test("refresh rotates the token; reusing a rotated one revokes the whole session", arguments: TestBackend.allCases)
    func refreshRotationAndReuse(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("doctor@acme.test", roles: ["doctor"])
                try await node.test { client in
                    let first = try await client.tokens("doctor@acme.test")

                    let rotated = try await client.refresh(first.refresh)
                    #expect(rotated.status == .ok)
                    let second = try #require(rotated.json["refresh_token"] as? String)
                    let access = try #require(rotated.json["access_token"] as? String)
                    #expect(second != first.refresh)
                    #expect(try await client.call(.get, "/api/v1/auth/status", token: access).status == .ok)

                    let reuse = try await client.refresh(first.refresh)
                    #expect(reuse.status == .unauthorized)
                    #expect((reuse.json["detail"] as? String)?.contains("revoked") == true)

                    #expect(try await client.refresh(second).status == .unauthorized)
                    #expect(try await client.call(.get, "/api/v1/auth/status", token: access).status == .unauthorized)
                    #expect(try await client.refresh("acme.not-a-real-token-but-long-enough-to-parse-000000").status == .unauthorized)
                }
            }
        }
    }

    @Test("failed logins lock the account with Retry-After until it runs out or an admin unlocks it", arguments: TestBackend.allCases)
    func lockout(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: ["WARD_AUTH_LOCKOUT_THRESHOLD": "3", "WARD_AUTH_LOCKOUT_DURATION": "20"]) { node in
                let nurse = try await node.user("nurse@acme.test", roles: ["nurse"])
                try await node.user("admin@acme.test", roles: ["tenant_admin"])
                let clock = node.clock
                try await node.test { client in
                    for _ in 0..<3 {
                        #expect(try await client.login("nurse@acme.test", password: "wrong-password-attempt").status == .unauthorized)
                    }
                    let locked = try await client.login("nurse@acme.test")
                    #expect(locked.status == .tooManyRequests)
                    #expect(Int(locked.headers[.retryAfter] ?? "") ?? 0 >= 1)

                    // It runs out by itself…
                    // (20 s: real time passing under a loaded suite must not end the lock before the checks.)
                    clock.advance(by: .seconds(21))
                    #expect(try await client.login("nurse@acme.test").status == .ok)

                    // …or an administrator clears it.
                    for _ in 0..<3 { _ = try await client.login("nurse@acme.test", password: "wrong-password-attempt") }
                    #expect(try await client.login("nurse@acme.test").status == .tooManyRequests)
                    let admin = try await client.tokens("admin@acme.test")
                    let unlocked = try await client.call(.post, "/api/v1/users/\(nurse)/unlock", token: admin.access)
                    #expect(unlocked.status == .ok)
                    #expect(try await client.login("nurse@acme.test").status == .ok)
                }
            }
        }
    }

    @Test("logins are throttled per client address with Retry-After")
    func throttling() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: ["WARD_AUTH_LOGIN_RATE": "3"]) { node in
                try await node.user("nurse@acme.test", roles: ["nurse"])
                try await node.test { client in
                    for _ in 0..<3 { #expect(try await client.login("nurse@acme.test").status == .ok) }
                    let throttled = try await client.login("nurse@acme.test")
                    #expect(throttled.status == .tooManyRequests)
                    #expect(throttled.json["title"] as? String == "Too many login attempts")
                    #expect((1...60).contains(Int(throttled.headers[.retryAfter] ?? "") ?? 0))
                }
            }
        }
    }

    @Test("a disabled user cannot log in, refresh, or use a token issued before", arguments: TestBackend.allCases)
    func disabledUser(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                let nurse = try await node.user("nurse@acme.test", roles: ["nurse"])
                try await node.user("admin@acme.test", roles: ["tenant_admin"])
                try await node.test { client in
                    let before = try await client.tokens("nurse@acme.test")
                    let admin = try await client.tokens("admin@acme.test")

                    let disabled = try await client.call(.patch, "/api/v1/users/\(nurse)", token: admin.access, json: ["status": "disabled"])
                    #expect(disabled.status == .ok)
                    #expect(disabled.json["status"] as? String == "disabled")

                    #expect(try await client.login("nurse@acme.test").status == .unauthorized)
                    #expect(try await client.refresh(before.refresh).status == .unauthorized)
                    #expect(try await client.call(.get, "/api/v1/auth/status", token: before.access).status == .unauthorized)
                }
            }
        }
    }

    @Test("a forged or foreign-key token is refused")
    func forgedToken() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site) { node in
                try await node.user("doctor@acme.test", roles: ["doctor"])
                try await node.test { client in
                    let tokens = try await client.tokens("doctor@acme.test")
                    var parts = tokens.access.split(separator: ".").map(String.init)
                    parts[2] = String(parts[2].reversed())
                    #expect(try await client.call(.get, "/api/v1/auth/status", token: parts.joined(separator: ".")).status == .unauthorized)
                    #expect(try await client.execute(uri: "/api/v1/auth/status", method: .get).status == .unauthorized)
                }
            }
        }
    }
}
