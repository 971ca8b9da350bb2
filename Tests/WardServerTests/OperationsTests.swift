import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle
import Testing
import WardCore
import WardHTTP
import WardServer
import WardStorage
import WardTestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("Operations")
struct OperationsTests {
    @Test("health, liveness and readiness answer ok on a migrated node", arguments: TestBackend.allCases)
    func health(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.test { client in
                    for path in ["/health", "/health/live"] {
                        try await client.execute(uri: path, method: .get) { response in
                            #expect(response.status == .ok)
                            #expect(response.json["status"] as? String == "ok")
                        }
                    }
                    try await client.execute(uri: "/health/ready", method: .get) { response in
                        #expect(response.status == .ok)
                        let checks = response.json["checks"] as? [String: String]
                        #expect(checks?["control_plane"] == "ok")
                        #expect(checks?["migrations"] == "ok")
                    }
                }
            }
        }
    }

    @Test("readiness is 503 naming pending migrations until they are applied", arguments: TestBackend.allCases)
    func readinessPendingMigrations(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withStorage { storage in try await storage.tenants.create(slug: "acme", name: "Acme") }
            let added = Migration(70, "create_wards", ["CREATE TABLE wards (id TEXT PRIMARY KEY)"])
            try await TestNode.with(site, tenantMigrations: [added]) { node in
                let storage = node.services.storage
                try await node.test { client in
                    try await client.execute(uri: "/health/ready", method: .get) { response in
                        #expect(response.status == .serviceUnavailable)
                        #expect(response.headers[.contentType] == "application/problem+json")
                        #expect((response.json["checks"] as? [String: String])?["migrations"] == "pending migrations")
                        #expect((response.json["detail"] as? String)?.contains("migrations") == true)
                    }
                    try await storage.migrateAll()
                    try await client.execute(uri: "/health/ready", method: .get) { response in
                        #expect(response.status == .ok)
                    }
                }
            }
        }
    }

    @Test("readiness turns 503 when PostgreSQL is unreachable and 200 when it returns")
    func readinessDatabaseOutage() async throws {
        try await withTestSite(.postgres) { site in
            let server = try #require(try TestPostgresServer.fromEnvironment())
            let name = try #require(site.databaseName)
            // A database refusing connections makes the ping wait for one: the check's own
            // bound (5 s here) is what turns that into "unavailable".
            try await TestNode.with(site, settings: ["WARD_READINESS_CHECK_TIMEOUT": "5"]) { node in
                try await node.test { client in
                    // Ready first: on a loaded machine a check may need another try within its bound.
                    var ready = false
                    for _ in 0..<10 where !ready {
                        ready = try await client.execute(uri: "/health/ready", method: .get).status == .ok
                        if !ready { try await Task.sleep(for: .milliseconds(250)) }
                    }
                    #expect(ready)

                    try await server.administer([
                        "ALTER DATABASE \(name) ALLOW_CONNECTIONS false",
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)'",
                    ])
                    try await client.execute(uri: "/health/ready", method: .get) { response in
                        #expect(response.status == .serviceUnavailable)
                        #expect((response.json["checks"] as? [String: String])?["control_plane"] == "unavailable")
                    }

                    try await server.administer(["ALTER DATABASE \(name) ALLOW_CONNECTIONS true"])
                    var recovered = false
                    for _ in 0..<40 where !recovered {
                        try await client.execute(uri: "/health/ready", method: .get) { response in
                            recovered = response.status == .ok
                        }
                        if !recovered { try await Task.sleep(for: .milliseconds(250)) }
                    }
                    #expect(recovered)
                }
            }
        }
    }

    @Test("/metrics is Prometheus text and counts the request just made, by route template")
    func metrics() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site) { node in
                try await node.test { client in
                    _ = try await client.execute(uri: "/health", method: .get)
                    _ = try await client.execute(uri: "/test/items/123", method: .get)
                    _ = try await client.execute(uri: "/test/items/456", method: .get)
                    try await client.execute(uri: "/metrics", method: .get) { response in
                        #expect(response.status == .ok)
                        #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                        let samples = try PrometheusText.parse(response.text)
                        #expect(samples[#"http_requests_total{method="GET",route="/health",status="200"}"#] == 1)
                        #expect(samples[#"http_requests_total{method="GET",route="/test/items/{id}",status="200"}"#] == 2)
                        #expect(!samples.keys.contains { $0.contains("/test/items/123") })
                        #expect(samples.keys.contains { $0.hasPrefix("http_request_duration_seconds_bucket{") })
                        #expect((samples["process_resident_memory_bytes"] ?? 0) > 0)
                        #expect(samples["process_start_time_seconds"] != nil)
                    }
                }
            }
        }
    }

    @Test("the OpenAPI document lists exactly the routes the router serves")
    func openAPIMatchesRoutes() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site) { node in
                let production = try WardApplication.buildRouter(node.services)
                // The web app's pages (under /app and /console) are routes of their own module, not API operations.
                let webPrefixes = ["/app", "/console"]
                let served = Set(production.routes.filter { route in !webPrefixes.contains { route.path.description.hasPrefix($0) } }
                    .map { "\($0.method.rawValue.lowercased()) \($0.path.description)" })

                let document = try #require(try JSONSerialization.jsonObject(with: WardApplication.openAPIDocument()) as? [String: Any])
                let paths = try #require(document["paths"] as? [String: [String: Any]])
                let documented = Set(paths.flatMap { path, operations in operations.keys.map { "\($0) \(path)" } })

                #expect(document["openapi"] as? String == "3.1.0")
                // Every body an operation takes is described, and every schema referenced exists.
                let bodiless: Set<String> = [
                    "post /api/v1/auth/logout", "post /api/v1/auth/totp/enrol", "post /api/v1/users/{id}/unlock",
                    "put /api/v1/users/{id}/roles/{role}", "post /api/v1/users/{id}/password-reset",
                    "post /platform/v1/tenants/{slug}/retry", "post /platform/v1/tenants/{slug}/suspend", "post /platform/v1/tenants/{slug}/resume",
                    "post /api/v1/prescriptions/{id}/file", "post /api/v1/invoices/{id}/issue", "post /api/v1/invoices/{id}/stripe-payment",
                    "post /api/v1/parking/bookings/{id}/cancel", "post /api/v1/parking/permits/{id}/revoke",
                ]
                let schemas = Set(((document["components"] as? [String: Any])?["schemas"] as? [String: Any])?.keys.map { $0 } ?? [])
                for (path, operations) in paths {
                    for (method, operation) in operations {
                        let body = (operation as? [String: Any])?["requestBody"] as? [String: Any]
                        if ["post", "put", "patch"].contains(method), !bodiless.contains("\(method) \(path)") {
                            #expect(body != nil, "\(method) \(path) has no requestBody")
                        }
                    }
                }
                let text = String(decoding: try WardApplication.openAPIDocument(), as: UTF8.self)
                for match in text.matches(of: /#\/components\/schemas\/([A-Za-z]+)/) {
                    #expect(schemas.contains(String(match.1)), "missing schema \(match.1)")
                }
                #expect(served.subtracting(documented).isEmpty, "undocumented: \(served.subtracting(documented))")
                #expect(documented.subtracting(served).isEmpty, "documented but not served: \(documented.subtracting(served))")
                #expect(!served.isEmpty)
                try await node.test { client in
                    try await client.execute(uri: "/api/openapi.json", method: .get) { response in
                        #expect(response.status == .ok)
                        #expect(response.json["openapi"] as? String == "3.1.0")
                    }
                }
            }
        }
    }

    @Test("the OpenAPI document passes an independent OpenAPI 3.1 validator")
    func openAPIValidates() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ward-openapi-\(UUID()).json")
        try WardApplication.openAPIDocument().write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = TestProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import json, sys
            try:
                from openapi_spec_validator import validate
            except ImportError:
                sys.exit(3)
            validate(json.load(open(sys.argv[1])))
            """, file.path]
        let errors = Pipe()
        process.standardError = errors
        try process.runAlone()
        try await offThePool { process.waitUntilExit() }
        if process.terminationStatus == 3, ProcessInfo.processInfo.environment["CI"] != "true" { return }  // validator not installed here
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(message)")
    }

    @Test("an in-flight request completes during graceful shutdown; new connections are then refused")
    func gracefulShutdown() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site) { node in
                try await node.live { port, group in
                    let inFlight = Task {
                        try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/test/slow?ms=1500")!)
                    }
                    try await Task.sleep(for: .milliseconds(400))
                    await group.triggerGracefulShutdown()

                    let (data, response) = try await inFlight.value
                    #expect((response as? HTTPURLResponse)?.statusCode == 200)
                    #expect(String(decoding: data, as: UTF8.self) == "done")
                    try await Task.sleep(for: .milliseconds(200))
                    await #expect(throws: (any Error).self) { _ = try await RawHTTP.get(port: port, path: "/health", host: "localhost") }
                }
            }
        }
    }
}

/// A strict reader of the Prometheus text exposition format: every line must be a comment
/// (`# HELP`/`# TYPE`) or a sample; samples are returned by their full series name.
enum PrometheusText {
    struct Malformed: Error { let line: String }

    static func parse(_ text: String) throws -> [String: Double] {
        let sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*\})?) ([-+]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|NaN|Inf))$/
        let comment = /^# (?:HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (?:counter|gauge|histogram|summary|untyped))$/
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            if line.wholeMatch(of: comment) != nil { continue }
            guard let match = line.wholeMatch(of: sample) else { throw Malformed(line: String(line)) }
            samples[String(match.1)] = Double(match.2) ?? .nan
        }
        return samples
    }
}
