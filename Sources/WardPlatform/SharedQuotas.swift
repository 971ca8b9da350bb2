import Foundation
import SQLKit
package import WardCore
package import WardHTTP
package import WardStorage

/// The rate-limit arrival times the nodes on one PostgreSQL share: a row per policy and key
/// holding the generic cell rate algorithm's theoretical arrival time. A node admits a share
/// of requests at a time (`RateLimiter.leaseSize`) by moving it on, so the table is written
/// once per share, not per request.
package struct SharedQuotas: QuotaLedger {
    private let database: any Database
    private let table: SQLQualifiedTable

    package init(storage: Storage) {
        database = storage.controlPlane
        table = SQLQualifiedTable("rate_limit_quotas", space: storage.controlPlaneTarget.schema)
    }

    package func lease(policy: RateLimitPolicy, key: String, now: Double, amount: Int) async throws -> Int {
        let table = self.table
        let interval = Double(policy.window) / Double(policy.limit), window = Double(policy.window)
        return try await database.transaction { database in
            try await database.raw("""
                INSERT INTO \(table) (policy, key, tat) VALUES (\(bind: policy.name), \(bind: key), \(bind: now))
                ON CONFLICT (policy, key) DO NOTHING
                """).run()
            // As many of `amount` as fit before the arrival time runs a window ahead of now.
            let row = try await database.raw("""
                SELECT tat FROM \(table) WHERE policy = \(bind: policy.name) AND key = \(bind: key) FOR UPDATE
                """).first()
            let base = max(try row?.decode(column: "tat", as: Double.self) ?? now, now)
            let granted = max(0, min(amount, Int(((window - (base - now)) / interval + 1e-9).rounded(.down))))
            if granted > 0 {
                try await database.raw("""
                    UPDATE \(table) SET tat = \(bind: base + Double(granted) * interval) WHERE policy = \(bind: policy.name) AND key = \(bind: key)
                    """).run()
            }
            if Int.random(in: 0..<500) == 0 {
                // Now and then, keys whose quota has been whole for a day go.
                try await database.raw("DELETE FROM \(table) WHERE tat < \(bind: now - 86_400)").run()
            }
            return granted
        }
    }
}
