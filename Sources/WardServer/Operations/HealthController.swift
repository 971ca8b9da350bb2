import Foundation
import Hummingbird
import Logging
import NIOCore
import OpenAPIKit
import WardCore
import WardHTTP
import WardKit
import WardStorage

/// Health endpoints for load balancers and orchestrators: `/health` and `/health/live` say the
/// process answers; `/health/ready` says it can serve: every database it uses answers and
/// every migration has been applied.
struct HealthController {
    let storage: Storage
    /// What the modules check besides the databases and migrations.
    let moduleChecks: [ReadinessCheck]
    /// How long one readiness check may take before it counts as failed.
    let checkTimeout: Duration
    let logger: Logger

    static let operations: [APIOperation] = [
        APIOperation("health", .get, "/health", summary: "Process is up", tag: "operations", success: (200, "application/json", Health.self)),
        APIOperation("liveness", .get, "/health/live", summary: "Liveness probe", tag: "operations", success: (200, "application/json", Health.self)),
        APIOperation("readiness", .get, "/health/ready", summary: "Readiness probe: databases reachable and migrations current", tag: "operations",
                     success: (200, "application/json", Readiness.self), problems: [503]),
    ]

    /// The process answers.
    struct Health: Codable, APIResponseBody {
        let status: String
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["status": .enumeration(["ok"])] }
    }

    /// The node can serve: each check's outcome by its name.
    struct Readiness: Codable, APIResponseBody {
        let status: String
        let checks: [String: String]
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["status": .enumeration(["ok", "unavailable"])] }
    }

    func routes(_ routes: inout ModuleRoutes) {
        routes.on("health") { _, _ in try Self.ok }
        routes.on("liveness") { _, _ in try Self.ok }
        routes.on("readiness") { _, _ in try await ready() }
    }

    private static var ok: Response {
        get throws { try JSONResponse.make(Health(status: "ok")) }
    }

    /// Runs every check concurrently, each bounded by `checkTimeout`; 503 names what failed.
    private func ready() async throws -> Response {
        var checks: [(String, @Sendable () async throws -> Void)] = storage.requiredDatabases.map { entry in
            (entry.name, { try await entry.database.ping() })
        }
        let storage = self.storage
        checks.append(("migrations", {
            guard try await storage.migrationsAreCurrent() else { throw ReadinessFailure.pendingMigrations }
        }))
        checks += moduleChecks.map { ($0.name, $0.check) }
        // Other shards this node has opened: each is pinged and reported, but one down fails
        // only its own clinics' requests, not the node (which serves every other clinic).
        let shardChecks: [(String, @Sendable () async throws -> Void)] = (storage.tenants.shards?.openClusters ?? []).map { cluster in
            ("shard_" + cluster.name, { try await cluster.serving.ping() })
        }
        checks += shardChecks
        let timeout = checkTimeout
        let logger = self.logger
        var results = await withTaskGroup(of: (String, String).self) { group in
            for (name, check) in checks {
                group.addTask {
                    do {
                        try await withDeadline(timeout) { try await check() }
                        return (name, "ok")
                    } catch ReadinessFailure.pendingMigrations {
                        return (name, "pending migrations")
                    } catch {
                        logger.warning("readiness check failed", metadata: ["check": "\(name)", "error": "\(error)"])
                        return (name, "unavailable")
                    }
                }
            }
            var results: [String: String] = [:]
            for await (name, outcome) in group { results[name] = outcome }
            return results
        }
        let advisory = Set(shardChecks.map(\.0))
        let failed = results.filter { $0.value != "ok" && !advisory.contains($0.key) }.keys.sorted()
        // Replicas as their monitor last saw them: one lagging or down sends reads to the
        // primary, which the node serves on; readiness says so without failing.
        for replica in storage.replicas?.statuses ?? [] {
            results[replica.name] = replica.serving ? "ok" : replica.problem ?? "unavailable"
        }
        if failed.isEmpty {
            return try JSONResponse.make(Readiness(status: "ok", checks: results))
        }
        // A problem document with the per-check detail beside its standard fields.
        let problem: [String: Any] = [
            "type": "about:blank", "title": "Not ready", "status": 503,
            "detail": "Failed checks: \(failed.joined(separator: ", ")).", "checks": results,
        ]
        let problemData = try JSONSerialization.data(withJSONObject: problem, options: [.sortedKeys])
        return Response(
            status: .serviceUnavailable,
            headers: [.contentType: Problem.mediaType, .retryAfter: "5"],
            body: .init(byteBuffer: ByteBuffer(bytes: problemData))
        )
    }
}

enum ReadinessFailure: Error { case pendingMigrations, timedOut }

/// Runs `work`, throwing `ReadinessFailure.timedOut` if it takes longer than `limit`.
func withDeadline(_ limit: Duration, _ work: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await work() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw ReadinessFailure.timedOut
        }
        defer { group.cancelAll() }
        try await group.next()
    }
}

