import Foundation
import HummingbirdTesting
import SQLKit
import Testing
import WardStorage
import WardTestSupport

/// What PostgreSQL can do to a request: hold a lock it waits on, or drop its connection. Every
/// request is answered, 503 with `Retry-After`, within the request timeout; the statement left
/// behind ends on the server; the next requests are served as before.
@Suite("Database outages")
struct DatabaseOutageTests {
    /// Holds an exclusive lock on one of the tenant's tables for `seconds`, on a connection of
    /// its own; returns once the lock is held, with that backend's pid.
    private static func lock(_ site: TestSite, table: String = "patients", schema: String, seconds: Int) async throws -> (pid: Int, held: Task<Void, any Error>, database: PostgresDatabase) {
        let url = try #require(site.databaseURL)
        let database = try PostgresDatabase(url: url, limits: .init(maximumConnections: 2, statementTimeout: .seconds(120)), logger: TestLogs.quiet)
        let (locked, signal) = AsyncStream.makeStream(of: Int.self)
        let held = Task {
            try await database.transaction(searchPath: schema) { db in
                try await db.raw(SQLQueryString("LOCK TABLE \(unsafeRaw: table) IN ACCESS EXCLUSIVE MODE")).run()
                let pid = try await db.raw("SELECT pg_backend_pid() AS pid").first()?.decode(column: "pid", as: Int.self)
                signal.yield(pid ?? 0)
                try await db.raw(SQLQueryString("SELECT pg_sleep(\(unsafeRaw: String(seconds)))")).run()
            }
        }
        var iterator = locked.makeAsyncIterator()
        let pid = try #require(await iterator.next())
        return (pid, held, database)
    }

    /// Ends the lock's transaction now, rather than when its sleep ends (cancelling the task
    /// that holds it does not interrupt the statement).
    private static func release(_ lock: (pid: Int, held: Task<Void, any Error>, database: PostgresDatabase)) async throws {
        try await lock.database.read { db in _ = try await db.raw("SELECT pg_cancel_backend(\(bind: lock.pid)::int)").all() }
        _ = await lock.held.result
        await lock.database.shutdown()
    }

    /// A fixture request, tried again when it failed: these nodes answer 503 after 2 s, which a
    /// login (bcrypt) can take on a loaded two-core machine before any lock is taken.
    private static func retried<Value>(_ body: () async throws -> Value) async throws -> Value {
        for _ in 1..<10 {
            if let value = try? await body() { return value }
            try await Task.sleep(for: .milliseconds(500))
        }
        return try await body()
    }

    /// Ward's backends of this database waiting on a lock.
    private static func waiting(_ database: PostgresDatabase, name: String, besides pid: Int) async throws -> Int {
        try await database.read { db in
            try await db.raw("""
                SELECT count(*)::int AS waiting FROM pg_stat_activity
                WHERE datname = \(bind: name) AND pid <> \(bind: pid) AND wait_event_type = 'Lock'
                """).first()?.decode(column: "waiting", as: Int.self) ?? 0
        }
    }

    @Test("a request stuck behind a lock is answered 503 at the request timeout, not when the lock goes, and its statement ends on the server")
    func stuckStatement() async throws {
        try await withTestSite(.postgres) { site in
            let name = try #require(site.databaseName)
            try await TestNode.with(site, settings: ["WARD_REQUEST_TIMEOUT": "2", "WARD_DB_STATEMENT_TIMEOUT": "60"]) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                let schema = try #require(try await node.services.storage.tenants.activeScope(slug: "acme").schema)
                try await node.test { client in
                    let doctor = try await Self.retried { try await client.token("doctor@acme.test") }
                    let patient = try await Self.retried { try await client.patient(doctor, ["given_name": "Lena", "family_name": "Fischer"]) }
                    // Held far past the bound below, which is wide: the suite on two cores has
                    // delayed a test's own wake-ups by seconds. Released once checked.
                    let lock = try await Self.lock(site, schema: schema, seconds: 40)

                    let started = ContinuousClock.now
                    let stuck = try await client.send(.get, "/api/v1/patients/\(patient)", token: doctor)
                    let took = ContinuousClock.now - started
                    #expect(stuck.status == .serviceUnavailable)
                    #expect(stuck.headers[.retryAfter] != nil)
                    #expect(took < .seconds(15), "answered at the 2 s request timeout, not when the 40 s lock went: \(took)")

                    // The abandoned statement does not wait on in the server.
                    var left = try await Self.waiting(lock.database, name: name, besides: lock.pid)
                    for _ in 0..<20 where left > 0 {
                        try await Task.sleep(for: .milliseconds(250))
                        left = try await Self.waiting(lock.database, name: name, besides: lock.pid)
                    }
                    // PgBouncer passes no `client_connection_check_interval` at startup (an operator
                    // sets it on the role behind one), so there the server notices only when the
                    // lock goes; directly, at once.
                    if !TestPostgresServer.throughPgBouncer {
                        #expect(left == 0, "the stuck statement ended on the server while the lock was still held")
                    }

                    try await Self.release(lock)
                    #expect(try await client.send(.get, "/api/v1/patients/\(patient)", token: doctor).status == .ok)
                }
            }
        }
    }

    @Test("a read whose audit event cannot be committed yet is answered 503 at the request timeout; the event is committed later")
    func stuckAuditCommit() async throws {
        try await withTestSite(.postgres) { site in
            try await TestNode.with(site, settings: ["WARD_REQUEST_TIMEOUT": "2", "WARD_DB_STATEMENT_TIMEOUT": "60"]) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                let scope = try await node.services.storage.tenants.activeScope(slug: "acme")
                let schema = try #require(scope.schema)
                let audit = node.services.audit
                try await node.test { client in
                    let doctor = try await Self.retried { try await client.token("doctor@acme.test") }
                    let patient = try await Self.retried { try await client.patient(doctor, ["given_name": "Lena", "family_name": "Fischer"]) }
                    // Reads' events are made durable in the node's audit journal.
                    // Held far past the bound below, and let go once the request was answered.
                    let lock = try await Self.lock(site, table: "audit_journal_batches", schema: Storage.platformSchema, seconds: 40)

                    let started = ContinuousClock.now
                    let stuck = try await client.send(.get, "/api/v1/patients/\(patient)", token: doctor)
                    let took = ContinuousClock.now - started
                    #expect(stuck.status == .serviceUnavailable)
                    #expect(took < .seconds(15), "answered at the 2 s request timeout, not when the 40 s lock went: \(took)")
                    try await Self.release(lock)
                    // The read was audited all the same once the lock went.
                    var audited = 0
                    for _ in 0..<40 where audited == 0 {
                        try await audit.settle(scope)
                        audited = try await scope.database.read { db in
                            try await db.raw("SELECT count(*)::int AS n FROM \(ident: schema).audit_events WHERE action = 'read' AND resource_id = \(bind: patient)")
                                .first()?.decode(column: "n", as: Int.self) ?? 0
                        }
                        if audited == 0 { try await Task.sleep(for: .milliseconds(100)) }
                    }
                    #expect(audited >= 1)
                }
            }
        }
    }

    @Test("requests waiting when PostgreSQL drops their connections are answered 503 at once; the next ones succeed")
    func droppedConnections() async throws {
        try await withTestSite(.postgres) { site in
            let server = try #require(try TestPostgresServer.fromEnvironment())
            let name = try #require(site.databaseName)
            try await TestNode.with(site, settings: ["WARD_REQUEST_TIMEOUT": "60"]) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                let schema = try #require(try await node.services.storage.tenants.activeScope(slug: "acme").schema)
                try await node.test { client in
                    let doctor = try await Self.retried { try await client.token("doctor@acme.test") }
                    let patient = try await Self.retried { try await client.patient(doctor, ["given_name": "Lena", "family_name": "Fischer"]) }
                    let lock = try await Self.lock(site, schema: schema, seconds: 90)

                    let started = ContinuousClock.now
                    async let first = client.send(.get, "/api/v1/patients/\(patient)", token: doctor)
                    async let second = client.send(.get, "/api/v1/patients/\(patient)", token: doctor)
                    async let third = client.send(.get, "/api/v1/patients", token: doctor)
                    // Once all three wait on the lock, their connections are dropped.
                    for _ in 0..<40 where try await Self.waiting(lock.database, name: name, besides: lock.pid) < 3 {
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    try await server.administer([
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)' AND pid <> \(lock.pid)",
                    ])
                    let answers = try await [first, second, third]
                    let took = ContinuousClock.now - started
                    #expect(answers.map(\.status) == [.serviceUnavailable, .serviceUnavailable, .serviceUnavailable])
                    #expect(answers.allSatisfy { $0.json["title"] as? String == "Database unavailable" })
                    // A few seconds alone; the bound is wide (a loaded suite has stretched it past 15 s).
                    #expect(took < .seconds(30), "answered when the connections went, not at the 60 s request timeout: \(took)")

                    try await Self.release(lock)
                    let after = try await client.send(.get, "/api/v1/patients/\(patient)", token: doctor)
                    #expect(after.status == .ok, "\(after.text)")
                }
            }
        }
    }
}
