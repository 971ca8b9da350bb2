import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import WardCore
import WardServer
import WardTestSupport

@Suite("Edge protection: hosts, HTTPS, CORS")
struct EdgeProtectionTests {
    static let password = "correct-stable-fossil-lamp"
    static let origin = HTTPField.Name("Origin")!
    static let allowOrigin = HTTPField.Name("Access-Control-Allow-Origin")!
    static let allowCredentials = HTTPField.Name("Access-Control-Allow-Credentials")!
    static let requestMethod = HTTPField.Name("Access-Control-Request-Method")!
    static let requestHeaders = HTTPField.Name("Access-Control-Request-Headers")!

    @Test("host patterns and origins are read as the edge compares them")
    func rules() {
        #expect(HostRules.matches("acme.ward.example.org", ["*.ward.example.org"]))
        #expect(!HostRules.matches("ward.example.org", ["*.ward.example.org"]))
        #expect(!HostRules.matches("evilward.example.org", ["*.ward.example.org"]))
        #expect(!HostRules.matches("ward.example.org.evil.test", ["ward.example.org"]))
        #expect(HostRules.host(ofAuthority: "Ward.Example.org:8443") == "ward.example.org")
        #expect(HostRules.host(ofAuthority: "[::1]:8080") == "[::1]")
        #expect(HostRules.origin("HTTPS://Portal.Example.org:443") == "https://portal.example.org")
        #expect(HostRules.origin("http://localhost:3000") == "http://localhost:3000")
        for bad in ["*", "https://*.example.org", "https://portal.example.org/app", "null", "ftp://example.org", "https://user@example.org", "https://"] {
            #expect(HostRules.origin(bad) == nil, "\(bad)")
        }
    }

    @Test("a Host the node does not serve is 400 before any work; health probes are answered whatever their Host")
    func allowedHosts() async throws {
        try await withTestSite(.sqlite) { site in
            // The test client always sends Host: localhost. The routes are unknown ones (the
            // front door answers before routing, for every route alike).
            try await TestNode.with(site, settings: ["WARD_ALLOWED_HOSTS": "ward.example.org,*.ward.example.org"]) { node in
                try await node.test { client in
                    let refused = try await client.execute(uri: "/no/such/route", method: .get)
                    #expect(refused.status == .badRequest)
                    #expect(refused.json["title"] as? String == "Unknown host")
                    let probe = try await client.execute(uri: "/health/live", method: .get)
                    #expect(probe.status == .ok)
                }
            }
            try await TestNode.with(site, settings: ["WARD_ALLOWED_HOSTS": "localhost"]) { node in
                try await node.test { client in
                    let served = try await client.execute(uri: "/no/such/route", method: .get)
                    #expect(served.status == .notFound)
                }
            }
        }
    }

    @Test("plain HTTP is sent to HTTPS (308 for reads, 400 for writes); over HTTPS, HSTS with preload when asked; probes exempt")
    func httpsRedirect() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: ["WARD_HTTPS_REDIRECT": "true", "WARD_TRUST_PROXY": "true", "WARD_HSTS_PRELOAD": "true"]) { node in
                try await node.test { client in
                    let read = try await client.execute(uri: "/no/such/route?x=1", method: .get)
                    #expect(read.status == .permanentRedirect)
                    #expect(read.headers[.location] == "https://localhost/no/such/route?x=1")
                    let write = try await client.execute(uri: "/test/echo", method: .post, headers: [.contentType: "application/json"],
                                                         body: ByteBuffer(string: "{}"))
                    #expect(write.status == .badRequest)
                    #expect(write.json["title"] as? String == "HTTPS required")
                    let secure = try await client.execute(uri: "/api/openapi.json", method: .get, headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
                    #expect(secure.status == .ok)
                    #expect(secure.headers[.strictTransportSecurity] == "max-age=63072000; includeSubDomains; preload")
                    let probe = try await client.execute(uri: "/health/live", method: .get)
                    #expect(probe.status == .ok)
                }
            }
        }
    }

    @Test("CORS: a clinic's and the node's origins get credentialed answers naming them; preflights need no login; other origins, methods and headers get no grant",
          arguments: TestBackend.allCases)
    func crossOrigin(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: ["WARD_CORS_ORIGINS": "https://portal.example.org"]) { node in
                for slug in ["acme", "zenith"] {
                    try await node.services.storage.tenants.create(slug: slug, name: slug.capitalized)
                    let scope = try await node.services.storage.tenants.activeScope(slug: slug)
                    try await node.services.identity.seedCatalogue(in: scope)
                    _ = try await node.services.identity.createUser(in: scope, email: "admin@\(slug).test", name: "Admin", password: Self.password,
                                                                    roles: ["tenant_admin"], by: .system)
                    _ = try await node.services.identity.createUser(in: scope, email: "nurse@\(slug).test", name: "Nurse", password: Self.password,
                                                                    roles: ["nurse"], by: .system)
                }
                try await node.test { client in
                    func token(_ email: String, _ tenant: String) async throws -> String {
                        let body = try JSONSerialization.data(withJSONObject: ["tenant": tenant, "email": email, "password": Self.password])
                        let response = try await client.execute(uri: "/api/v1/auth/login", method: .post, headers: [.contentType: "application/json"],
                                                                body: ByteBuffer(bytes: body))
                        return try #require(response.json["access_token"] as? String)
                    }
                    func put(_ origins: [String], _ token: String) async throws -> TestResponse {
                        try await client.execute(uri: "/api/v1/tenant/cors-origins", method: .put,
                                                 headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                                                 body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: ["origins": origins])))
                    }
                    let acme = try await token("admin@acme.test", "acme"), zenith = try await token("admin@zenith.test", "zenith")
                    #expect(try await put(["https://kiosk.acme.test"], try await token("nurse@acme.test", "acme")).status == .forbidden)
                    #expect(try await put(["*"], acme).status.code == 422)
                    #expect(try await put(["https://kiosk.acme.test/app"], acme).status.code == 422)
                    #expect(try await put((1...21).map { "https://kiosk\($0).acme.test" }, acme).status.code == 422)
                    let saved = try await put(["HTTPS://Kiosk.Acme.test:443", "https://kiosk.acme.test"], acme)
                    #expect(saved.json["origins"] as? [String] == ["https://kiosk.acme.test"])
                    #expect(try await put(["https://zenith.test"], zenith).status == .ok)

                    // The preflight: no credentials, no tenant header.
                    let preflight = try await client.execute(uri: "/api/v1/patients", method: .options, headers: [
                        Self.origin: "https://kiosk.acme.test", Self.requestMethod: "POST", Self.requestHeaders: "authorization, content-type, x-tenant-id",
                    ])
                    #expect(preflight.status == .noContent)
                    #expect(preflight.headers[Self.allowOrigin] == "https://kiosk.acme.test")
                    #expect(preflight.headers[Self.allowCredentials] == "true")
                    #expect(preflight.headers[HTTPField.Name("Access-Control-Allow-Methods")!]?.contains("POST") == true)
                    #expect(preflight.headers[HTTPField.Name("Access-Control-Allow-Headers")!]?.contains("Authorization") == true)
                    for (origin, method, headers) in [("https://evil.test", "POST", "authorization"), ("https://kiosk.acme.test", "TRACE", ""),
                                                      ("https://kiosk.acme.test", "POST", "x-evil"), ("null", "GET", "")] {
                        let refused = try await client.execute(uri: "/api/v1/patients", method: .options,
                                                               headers: [Self.origin: origin, Self.requestMethod: method, Self.requestHeaders: headers])
                        #expect(refused.status == .forbidden, "\(origin) \(method) \(headers)")
                        #expect(refused.headers[Self.allowOrigin] == nil)
                    }

                    // The request itself is held to its own clinic's list (or the node's).
                    func list(_ token: String, origin: String) async throws -> TestResponse {
                        try await client.execute(uri: "/api/v1/patients", method: .get, headers: [.authorization: "Bearer \(token)", Self.origin: origin])
                    }
                    let allowed = try await list(acme, origin: "https://kiosk.acme.test")
                    #expect(allowed.status == .ok)
                    #expect(allowed.headers[Self.allowOrigin] == "https://kiosk.acme.test")
                    #expect(allowed.headers[Self.allowCredentials] == "true")
                    #expect(allowed.headers[.vary]?.contains("Origin") == true)
                    #expect(allowed.headers[HTTPField.Name("Access-Control-Expose-Headers")!]?.contains("ETag") == true)
                    let otherClinics = try await list(acme, origin: "https://zenith.test")
                    #expect(otherClinics.status == .ok && otherClinics.headers[Self.allowOrigin] == nil)
                    #expect(try await list(zenith, origin: "https://zenith.test").headers[Self.allowOrigin] == "https://zenith.test")
                    #expect(try await list(zenith, origin: "https://portal.example.org").headers[Self.allowOrigin] == "https://portal.example.org")
                    #expect(try await list(acme, origin: "https://evil.test").headers[Self.allowOrigin] == nil)
                    // The web app is same-origin: no grant there.
                    #expect(try await client.execute(uri: "/app/sign-in", method: .get, headers: [Self.origin: "https://portal.example.org"])
                        .headers[Self.allowOrigin] == nil)
                    let read = try await client.execute(uri: "/api/v1/tenant/cors-origins", method: .get, headers: [.authorization: "Bearer \(acme)"])
                    #expect(read.json["origins"] as? [String] == ["https://kiosk.acme.test"])
                }
            }
        }
    }
}
