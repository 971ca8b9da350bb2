import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing
import WardServer
import WardStorage
import WardTestSupport

/// Read replicas against scripts/test's streaming replica (`pg_basebackup -R`) of the test
/// server: reads reach it, a session reads its own writes while it lags, and one lagging past
/// the bound or stopped is dropped from reads and comes back. The monitor is polled by the test
/// with the instants it chooses, so the lag bound is crossed without waiting for it.
@Suite("Read replicas", .serialized)
struct ReadReplicaTests {
    static let readAfter = HTTPField.Name("Ward-Read-After")!

    @Test("GET requests read from the replica; under a paused replay a session reads its own write from the primary, another reads the replica until it lags past the bound")
    func readYourWritesUnderLag() async throws {
        guard let replica = try TestReplica.fromEnvironment() else { return }
        try await withTestSite(.postgres) { site in
            let settings = ["DATABASE_READ_URL": replica.url(database: site.databaseName!), "WARD_DB_REPLICA_MAX_LAG": "5"]
            try await TestNode.with(site, settings: settings) { node in
                let replicas = try #require(node.services.storage.replicas)
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                try await node.staff("nurse@acme.test", roles: ["nurse"])
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test"), nurse = try await client.token("nurse@acme.test")
                    let first = try await client.patient(doctor, ["given_name": "Omar", "family_name": "Haddad", "birth_date": "1990-01-01"])
                    try await Self.waitUntilServing(replicas)

                    // A list and a chart read from the replica: its own statistics count them.
                    let commitsBefore = try await Self.replicaTransactions(replica, database: site.databaseName!)
                    let readsBefore = Self.reads(replicas, "read_replica")
                    for _ in 0..<5 {
                        #expect(try await client.send(.get, "/api/v1/patients", token: nurse).status == .ok)
                    }
                    #expect(try await client.send(.get, "/api/v1/patients/\(first)", token: nurse).status == .ok)
                    #expect(Self.reads(replicas, "read_replica") - readsBefore >= 6)
                    try await Self.eventually {
                        try await Self.replicaTransactions(replica, database: site.databaseName!) - commitsBefore >= 6
                    }

                    // The replica stops replaying: what the primary commits now, it lacks.
                    try await replica.administer("SELECT pg_wal_replay_pause()")
                    do {
                        let created = try await client.send(.post, "/api/v1/patients", token: doctor, json: [
                            "given_name": "Lena", "family_name": "Vogel", "birth_date": "1985-05-05",
                        ])
                        #expect(created.status == .created)
                        let second = try #require(created.json["id"] as? String)
                        let position = try #require(created.headers[Self.readAfter])
                        #expect(WALPosition(position) != nil)
                        await replicas.poll()

                        // The doctor's session reads its write at once (from the primary).
                        let primaryBefore = Self.reads(replicas, "primary")
                        #expect(try await client.send(.get, "/api/v1/patients/\(second)", token: doctor).status == .ok)
                        #expect(Self.reads(replicas, "primary") > primaryBefore)
                        // Another session reads the replica, which has not replayed it...
                        #expect(try await client.send(.get, "/api/v1/patients/\(second)", token: nurse).status == .notFound)
                        // ...unless it names the position, as a client does on another node.
                        #expect(try await client.send(.get, "/api/v1/patients/\(second)", token: nurse, headers: [Self.readAfter: position]).status == .ok)

                        // Six seconds on, the replica lags past the five-second bound: dropped
                        // from reads, reported by readiness and metrics, the node still ready.
                        await replicas.poll(now: .now + .seconds(6))
                        let status = try #require(replicas.statuses.first)
                        #expect(!status.serving)
                        #expect(status.problem == "lagging")
                        #expect((status.lagSeconds ?? 0) > 5)
                        #expect((status.lagBytes ?? 0) > 0)
                        let ready = try await client.execute(uri: "/health/ready", method: .get)
                        #expect(ready.status == .ok)
                        #expect((ready.json["checks"] as? [String: String])?["read_replica"] == "lagging")
                        let metrics = try await client.execute(uri: "/metrics", method: .get).text
                        #expect(metrics.contains(#"database_replica_serving{replica="read_replica"} 0"#))
                        #expect(metrics.contains(#"database_reads_total{target="read_replica"}"#))
                        #expect(try await client.send(.get, "/api/v1/patients/\(second)", token: nurse).status == .ok)
                    } catch {
                        try? await replica.administer("SELECT pg_wal_replay_resume()")
                        throw error
                    }
                    try await replica.administer("SELECT pg_wal_replay_resume()")
                    try await Self.waitUntilServing(replicas)
                    let readsAgain = Self.reads(replicas, "read_replica")
                    #expect(try await client.send(.get, "/api/v1/patients", token: nurse).status == .ok)
                    #expect(Self.reads(replicas, "read_replica") > readsAgain)
                }
            }
        }
    }

    @Test("a stopped replica is dropped from reads at the next poll, requests go on from the primary, and it serves again once started")
    func stoppedReplicaDropsOutAndComesBack() async throws {
        guard let replica = try TestReplica.fromEnvironment() else { return }
        try await withTestSite(.postgres) { site in
            let settings = ["DATABASE_READ_URL": replica.url(database: site.databaseName!)]
            try await TestNode.with(site, settings: settings) { node in
                let replicas = try #require(node.services.storage.replicas)
                try await node.staff("nurse@acme.test", roles: ["nurse"])
                try await node.test { client in
                    let nurse = try await client.token("nurse@acme.test")
                    try await Self.waitUntilServing(replicas)
                    try await replica.control("stop")
                    do {
                        await replicas.poll()
                        #expect(replicas.statuses.first?.serving == false)
                        #expect(replicas.statuses.first?.problem == "unavailable")
                        let primaryBefore = Self.reads(replicas, "primary")
                        #expect(try await client.send(.get, "/api/v1/patients", token: nurse).status == .ok)
                        #expect(Self.reads(replicas, "primary") == primaryBefore + 1)
                        let ready = try await client.execute(uri: "/health/ready", method: .get)
                        #expect(ready.status == .ok)
                        #expect((ready.json["checks"] as? [String: String])?["read_replica"] == "unavailable")
                    } catch {
                        try? await replica.control("start")
                        throw error
                    }
                    try await replica.control("start")
                    try await Self.waitUntilServing(replicas)
                    #expect(try await client.send(.get, "/api/v1/patients", token: nurse).status == .ok)
                }
            }
        }
    }

    @Test("a server out of recovery is not taken for a replica")
    func primaryIsNotAReplica() async throws {
        try await withTestSite(.postgres) { site in
            let server = try #require(try TestPostgresServer.fromEnvironment())
            try await TestNode.with(site, settings: ["DATABASE_READ_URL": server.url(database: site.databaseName!)]) { node in
                let replicas = try #require(node.services.storage.replicas)
                await replicas.poll()
                #expect(replicas.statuses.first?.serving == false)
                #expect(replicas.statuses.first?.problem == "not a standby")
            }
        }
    }

    @Test("positions parse and print as PostgreSQL writes them; anything else is refused")
    func walPositions() {
        #expect(WALPosition("16/B374D848")?.value == 0x16_B374_D848)
        #expect(WALPosition("0/3000060")?.description == "0/3000060")
        #expect(WALPosition("1/0")! > WALPosition("0/FFFFFFFF")!)
        for bad in ["", "16", "16/", "/1", "1/2/3", "G/1", "123456789/0", " 1/2"] { #expect(WALPosition(bad) == nil) }
    }

    /// Polls until the replica serves and has replayed all the primary had written when called
    /// (other tests write to the same server meanwhile).
    static func waitUntilServing(_ replicas: ReplicaSet) async throws {
        let server = try #require(try TestPostgresServer.fromEnvironment())
        let written = try #require(WALPosition(try await query(server.adminURL.string!, "SELECT pg_current_wal_insert_lsn()::text AS v")))
        try await eventually {
            await replicas.poll()
            guard let status = replicas.statuses.first, let replayed = status.replayed else { return false }
            return status.serving && replayed >= written
        }
    }

    /// Waits up to 90 s for a real server to get there (a replica starting and replaying, the
    /// node's pool reconnecting after its backoff; the parallel suite through PgBouncer once
    /// kept it past 30 s).
    static func eventually(_ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("condition not reached within 90 s")
    }

    static func reads(_ replicas: ReplicaSet, _ target: String) -> Int {
        replicas.reads.first { $0.target == target }?.count ?? 0
    }

    /// Transactions the replica has counted in `database`.
    static func replicaTransactions(_ replica: TestReplica, database: String) async throws -> Int {
        Int(try await query(replica.adminURL.string!, "SELECT xact_commit::text AS v FROM pg_stat_database WHERE datname = '\(database)'")) ?? 0
    }

    /// The one text value `sql` selects (as `v`) on the server at `url`.
    static func query(_ url: String, _ sql: String) async throws -> String {
        let pool = try PostgresDatabase(url: url, limits: .init(maximumConnections: 1), logger: TestLogs.quiet)
        do {
            let value = try await pool.read { db in try await db.raw(SQLQueryString(sql)).first()?.decode(column: "v", as: String.self) }
            await pool.shutdown()
            return value ?? ""
        } catch {
            await pool.shutdown()
            throw error
        }
    }
}
