import Foundation
import HummingbirdBcrypt
import Logging
import NIOPosix
import WardAudit
import WardCore
import WardHTTP
import WardIdentity
import WardKit
import WardServer
import WardStorage

/// Micro-benchmarks the HTTP benchmark cannot isolate: raw bcrypt throughput (the ceiling for
/// logins) and the cost of a role check. Run by `Benchmarks/identity`; prints one line each.
@main
struct WardBench {
    static func main() async throws {
        let arguments = CommandLine.arguments.dropFirst()
        let seconds = Double(arguments.first ?? "") ?? 10
        let cost = Int(arguments.dropFirst().first ?? "") ?? 12
        try await bcryptThroughput(seconds: seconds, cost: cost)
        try await roleCheck()
    }

    /// bcrypt verifies per second with one worker per core, as the server runs them.
    static func bcryptThroughput(seconds: Double, cost: Int) async throws {
        let hash = Bcrypt.hash("bench-password-1", cost: UInt8(cost))
        let workers = ProcessInfo.processInfo.activeProcessorCount
        let deadline = Date().addingTimeInterval(seconds)
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var count = 0
                    while Date() < deadline {
                        let ok = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify("bench-password-1", hash: hash) }
                        precondition(ok)
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        print(String(format: "bcrypt   cost=%d workers=%d verifies/s=%.1f", cost, workers, Double(counts) / seconds))
    }

    /// Time to turn an access token into a principal from memory, and to check a permission.
    static func roleCheck() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ward-bench-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let settings = try WardSettings(given: [
            .dataDirectory: directory, .secretKey: String(repeating: "b", count: 48), .bcryptCost: "4",
        ])
        let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let services = try await WardApplication.services(settings: settings, metrics: WardMetrics(), logger: quiet, accessLog: AccessLog(level: .critical))
        try await WardApplication.migrate(services)
        try await services.storage.tenants.create(slug: "bench", name: "Bench")
        let scope = try await services.storage.tenants.activeScope(slug: "bench")
        _ = try await services.identity.createUser(in: scope, email: "doctor@bench.test", name: "Doctor", password: "correct-stable-fossil-lamp", roles: ["doctor"], by: .system)
        let grant = try await services.identity.login(tenant: "bench", email: "doctor@bench.test", password: "correct-stable-fossil-lamp", by: .system)
        _ = try await services.identity.principal(forAccessToken: grant.accessToken)

        let iterations = 200_000
        let clock = ContinuousClock()
        var allowed = 0
        let elapsed = try await clock.measure {
            for _ in 0..<iterations {
                let principal = try await services.identity.principal(forAccessToken: grant.accessToken)
                if principal.permissions.contains("patients:read") { allowed += 1 }
            }
        }
        precondition(allowed == iterations)
        let permissionElapsed = clock.measure {
            let principal = Principal(userID: "u", tenant: "t", sessionID: "s", displayName: "d", email: "e", roles: ["doctor"],
                                      permissions: services.node.catalogue.permissions(of: .doctor), sessionExpiresAt: .distantFuture)
            for index in 0..<1_000_000 where principal.permissions.contains(index & 1 == 0 ? "patients:read" : "users:manage") {
                allowed += 1
            }
        }
        func nanoseconds(_ duration: Duration, _ count: Int) -> Double {
            (Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9) / Double(count)
        }
        print(String(format: "rolecheck token→principal (JWT verify + cached grants) ns/op=%.0f  permission lookup ns/op=%.1f",
                     nanoseconds(elapsed, iterations), nanoseconds(permissionElapsed, 1_000_000)))
        await services.storage.shutdown()
    }
}
