import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import WardCore
import WardServer
import WardTestSupport

@Suite("Rate limits at the edge")
struct RateLimitTests {
    static let password = "correct-stable-fossil-lamp"
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    /// A clinic with a nurse and a doctor who can sign in.
    static func clinic(_ node: TestNode) async throws {
        try await node.services.storage.tenants.create(slug: "acme", name: "Acme")
        let scope = try await node.services.storage.tenants.activeScope(slug: "acme")
        try await node.services.identity.seedCatalogue(in: scope)
        for (email, role) in [("nurse@acme.test", "nurse"), ("doctor@acme.test", "doctor")] {
            _ = try await node.services.identity.createUser(in: scope, email: email, name: "Staff", password: Self.password, roles: [role], by: .system)
        }
    }

    static func token(_ client: any TestClientProtocol, _ email: String, headers extra: HTTPFields = [:]) async throws -> String {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.append(contentsOf: extra)
        let body = try JSONSerialization.data(withJSONObject: ["tenant": "acme", "email": email, "password": Self.password])
        let response = try await client.execute(uri: "/api/v1/auth/login", method: .post, headers: headers, body: ByteBuffer(bytes: body))
        return try #require(response.json["access_token"] as? String)
    }

    // Quotas per hour or day: a loaded machine's seconds between requests refill nothing.
    @Test("calls without credentials are counted per address (a trusted proxy's X-Forwarded-For names it); signed-in staff behind that address are not")
    func perAddress() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: ["WARD_RATE_LIMITS": "address=4/h", "WARD_TRUST_PROXY": "true"]) { node in
                try await Self.clinic(node)
                let clock = node.clock
                try await node.test { client in
                    let nurse = try await Self.token(client, "nurse@acme.test", headers: [Self.forwardedFor: "203.0.113.7"])  // one of the four
                    let from7: HTTPFields = [Self.forwardedFor: "203.0.113.7"]
                    for _ in 0..<3 { #expect(try await client.execute(uri: "/api/openapi.json", method: .get, headers: from7).status == .ok) }
                    let refused = try await client.execute(uri: "/api/openapi.json", method: .get, headers: from7)
                    #expect(refused.status == .tooManyRequests)
                    #expect(refused.headers[.contentType] == "application/problem+json")
                    #expect((800...900).contains(Int(refused.headers[.retryAfter] ?? "") ?? 0))
                    #expect(refused.headers[HTTPField.Name("RateLimit-Policy")!] == "\"address\";q=4;w=3600")
                    // Another address has its own quota; the proxy's own address before it is not trusted.
                    #expect(try await client.execute(uri: "/api/openapi.json", method: .get, headers: [Self.forwardedFor: "203.0.113.7, 203.0.113.8"]).status == .ok)
                    // The nurse, behind the same address, works on with her token; probes are never limited.
                    let listed = try await client.execute(uri: "/api/v1/patients", method: .get, headers: [.authorization: "Bearer \(nurse)", Self.forwardedFor: "203.0.113.7"])
                    #expect(listed.status == .ok)
                    #expect(try await client.execute(uri: "/health/live", method: .get, headers: from7).status == .ok)
                    clock.advance(by: .seconds(900))
                    #expect(try await client.execute(uri: "/api/openapi.json", method: .get, headers: from7).status == .ok)
                }
            }
        }
    }

    @Test("without a trusted proxy X-Forwarded-For is ignored: a client cannot buy quota by naming addresses")
    func untrustedForwarding() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: ["WARD_RATE_LIMITS": "address=2/h"]) { node in
                try await node.test { client in
                    var statuses: [Int] = []
                    for index in 0..<3 {
                        statuses.append(Int(try await client.execute(uri: "/api/openapi.json", method: .get, headers: [Self.forwardedFor: "198.51.100.\(index)"]).status.code))
                    }
                    #expect(statuses == [200, 200, 429])
                }
            }
        }
    }

    @Test("access tokens are counted per user, across the routes; another user has a quota of their own", arguments: TestBackend.allCases)
    func perUserAndSession(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: ["WARD_RATE_LIMITS": "user=5/h"]) { node in
                try await Self.clinic(node)
                try await node.test { client in
                    let nurse = try await Self.token(client, "nurse@acme.test"), doctor = try await Self.token(client, "doctor@acme.test")
                    let auth: HTTPFields = [.authorization: "Bearer \(nurse)"]
                    var statuses: [Int] = []
                    for uri in ["/api/v1/patients", "/api/v1/practitioners", "/api/v1/patients", "/api/v1/appointments", "/api/v1/patients", "/api/v1/patients"] {
                        statuses.append(Int(try await client.execute(uri: uri, method: .get, headers: auth).status.code))
                    }
                    #expect(statuses == [200, 200, 200, 200, 200, 429])
                    let refused = try await client.execute(uri: "/api/v1/patients", method: .get, headers: auth)
                    #expect((600...720).contains(Int(refused.headers[.retryAfter] ?? "") ?? 0))
                    #expect(try await client.execute(uri: "/api/v1/patients", method: .get, headers: [.authorization: "Bearer \(doctor)"]).status == .ok)
                }
            }
        }
    }

    @Test("two nodes on one PostgreSQL share each user's quota: 80 requests alternating between them admit the quota, not twice it")
    func twoNodes() async throws {
        try await withTestSite(.postgres) { site in
            let limits = ["WARD_RATE_LIMITS": "user=40/d"]
            try await TestNode.with(site, settings: limits) { first in
                try await Self.clinic(first)
                try await TestNode.with(site, settings: limits) { second in
                    let otherNode = WardApplication.buildApplication(second.services, router: second.router)
                    try await first.test { one in
                        try await otherNode.test(.router) { other in
                            let nurse = try await Self.token(one, "nurse@acme.test")
                            var admitted = 0, refused = 0
                            for index in 0..<80 {
                                let client = index % 2 == 0 ? one : other
                                let status = try await client.execute(uri: "/api/v1/patients", method: .get, headers: [.authorization: "Bearer \(nurse)"]).status
                                if status == .ok { admitted += 1 } else if status == .tooManyRequests { refused += 1 }
                            }
                            // Shares of 2: at most the quota, less at most the other node's unspent share.
                            #expect((38...40).contains(admitted), "admitted \(admitted)")
                            #expect(admitted + refused == 80)
                        }
                    }
                }
            }
        }
    }
}
