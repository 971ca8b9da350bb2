import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Synchronization
import Testing
import WardAudit
import WardServer
import WardStorage
import WardTestSupport

/// Tenants on two PostgreSQL clusters: scripts/test's server and a second one it starts.
@Suite("Shards")
struct ShardTests {
    /// Runs `body` with a node on a PostgreSQL site and a database of the same test's on the
    /// second cluster, registered as shard `east`.
    static func withTwoShards(_ body: (TestNode, _ eastURL: String) async throws -> Void) async throws {
        try await withShardSite { site, eastURL in
            try await TestNode.with(site) { node in
                let shards = try #require(node.services.storage.tenants.shards)
                _ = try await shards.add(name: "east", url: eastURL, ownerURL: nil, poolSize: 4, description: "the second cluster")
                try await body(node, eastURL)
            }
        }
    }

    /// A PostgreSQL site and a database of the same name on the second cluster (its URL), both
    /// removed afterwards.
    static func withShardSite(_ body: (TestSite, _ eastURL: String) async throws -> Void) async throws {
        guard let second = try TestPostgresServer.shardFromEnvironment() else { return }
        try await withTestSite(.postgres) { site in
            let name = site.databaseName!
            try await second.createDatabase(name)
            do {
                try await body(site, second.url(database: name))
            } catch {
                try? await second.dropDatabase(name)
                Issue.record("\(String(reflecting: error))")
                throw error
            }
            try await second.dropDatabase(name)
        }
    }

    @Test("a shard's database is given the control plane's planner cost when it is added, unless it chose one", arguments: [nil, "4"])
    func shardPlannerCosts(chosen: String?) async throws {
        guard let second = try TestPostgresServer.shardFromEnvironment() else { return }
        try await Self.withShardSite { site, eastURL in
            let name = site.databaseName!
            if let chosen { try await second.administer(["ALTER DATABASE \"\(name)\" SET random_page_cost = \(chosen)"]) }
            try await TestNode.with(site) { node in
                let shards = try #require(node.services.storage.tenants.shards)
                _ = try await shards.add(name: "east", url: eastURL, ownerURL: nil, poolSize: 2, description: "")
                let setting = try await shards.cluster(named: "east").serving.read { database in
                    try await database.raw("""
                        SELECT array_to_string(setconfig, ',') AS setting FROM pg_db_role_setting
                        WHERE setrole = 0 AND setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
                        """).first()?.decode(column: "setting", as: String.self)
                }
                #expect(setting == "random_page_cost=\(chosen ?? "1.1")")
            }
        }
    }

    @Test("new tenants go to the shard with the fewest, or the one named; each lives only on its cluster, and neither sees the other's data")
    func placementAndIsolation() async throws {
        try await Self.withTwoShards { node, eastURL in
            let tenants = node.services.storage.tenants
            let shards = try #require(tenants.shards)
            // Both shards hold none: the tie goes by name, east first; then primary has fewer.
            let acme = try await tenants.create(slug: "acme", name: "Acme")
            let bolt = try await tenants.create(slug: "bolt", name: "Bolt")
            #expect(acme.shard == "east")
            #expect(bolt.shard == "primary")
            let named = try await tenants.reserve(slug: "cove", name: "Cove")
            #expect(try await tenants.placeOnShard(named.slug, named: "east") == "east")
            await #expect(throws: ShardError.self) { try await tenants.placeOnShard(named.slug, named: "west") }
            // A shard closed to new tenants is passed over.
            try await shards.setAcceptsTenants("primary", false)
            #expect(try await tenants.placeOnShard(named.slug) == "east")
            try await shards.setAcceptsTenants("primary", true)

            // Each schema exists on its own cluster only.
            let east = try PostgresDatabase(url: eastURL, limits: .init(maximumConnections: 1), logger: TestLogs.quiet)
            let schemas = try await east.read { db in
                try await db.raw("SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'").all().map { try $0.decode(column: "nspname", as: String.self) }
            }
            await east.shutdown()
            #expect(schemas == ["t_acme"])
            #expect(try await tenants.databaseExists("bolt"))
            let records = try await shards.records()
            #expect(records.map(\.name) == ["east", "primary"])

            // Staff of each, patients of each; one tenant's token never reaches the other's rows.
            for slug in ["acme", "bolt"] {
                let scope = try await tenants.activeScope(slug: slug)
                _ = try await node.services.identity.createUser(in: scope, email: "doctor@\(slug).test", name: "Doctor", password: password, roles: ["doctor"], by: .system)
            }
            try await node.test { client in
                let acmeToken = try await client.token("doctor@acme.test", tenant: "acme")
                let boltToken = try await client.token("doctor@bolt.test", tenant: "bolt")
                let acmePatient = try await client.patient(acmeToken, ["given_name": "Ana", "family_name": "East", "birth_date": "1980-01-01"])
                let boltPatient = try await client.patient(boltToken, ["given_name": "Ben", "family_name": "West", "birth_date": "1981-01-01"])
                #expect(try await client.send(.get, "/api/v1/patients/\(acmePatient)", token: acmeToken).status == .ok)
                #expect(try await client.send(.get, "/api/v1/patients/\(boltPatient)", token: acmeToken).status == .notFound)
                #expect(try await client.send(.get, "/api/v1/patients/\(acmePatient)", token: boltToken).status == .notFound)
                let listed = try await client.send(.get, "/api/v1/patients", token: boltToken).text
                #expect(!listed.contains("Ana"))
                // Readiness reports the shard this node opened.
                let ready = try await client.execute(uri: "/health/ready", method: .get)
                #expect(ready.status == .ok)
                #expect((ready.json["checks"] as? [String: String])?["shard_east"] == "ok")
            }
            await node.services.audit.moveJournal(everything: true, tenants: tenants)
            for slug in ["acme", "bolt"] {
                let verification = try await node.services.audit.verify(try await tenants.activeScope(slug: slug))
                #expect(verification.firstBreak == nil)
                #expect(verification.checked > 0)
            }
        }
    }

    @Test("a tenant moves to another cluster under write load: every acknowledged write is there, the audit chain verifies, the old schema is gone")
    func moveUnderLoad() async throws {
        try await Self.withTwoShards { node, eastURL in
            let tenants = node.services.storage.tenants
            let shards = try #require(tenants.shards)
            try await shards.setAcceptsTenants("east", false)
            try await node.staff("doctor@acme.test", roles: ["doctor"])
            #expect(try await tenants.fetch(slug: "acme")?.shard == "primary")
            let mover = try tenants.mover()
            // A scope taken before the move, as a request holding it across the switch has.
            let before = try await tenants.activeScope(slug: "acme")
            try await node.test { client in
                let doctor = try await client.token("doctor@acme.test")
                for index in 0..<50 {
                    _ = try await client.patient(doctor, ["given_name": "Before\(index)", "family_name": "Load", "birth_date": "1970-01-01"])
                }
                // Writers and readers run through the whole move.
                let load = LoadLog()
                let report = try await withThrowingTaskGroup(of: TenantMove.Report?.self) { group in
                    // Two writers and a reader, each pausing a moment between requests: load on
                    // the tenant throughout the move, without starving the rest of the parallel suite.
                    for writer in 0..<2 {
                        group.addTask {
                            var index = 0
                            while !load.stopped, !Task.isCancelled {
                                let response = try await client.send(.post, "/api/v1/patients", token: doctor, json: [
                                    "given_name": "During\(writer)x\(index)", "family_name": "Load", "birth_date": "1971-01-01",
                                ])
                                if response.status == .created, let id = response.json["id"] as? String {
                                    load.acknowledge(id)
                                } else {
                                    load.fail("\(response.status.code) \(response.text)")
                                }
                                index += 1
                                try await Task.sleep(for: .milliseconds(5))
                            }
                            return nil
                        }
                    }
                    group.addTask {
                        while !load.stopped, !Task.isCancelled {
                            let response = try await client.send(.get, "/api/v1/patients?q=Load", token: doctor)
                            if response.status != .ok { load.fail("read \(response.status.code)") }
                            try await Task.sleep(for: .milliseconds(20))
                        }
                        return nil
                    }
                    group.addTask {
                        // Let the load start before the move does, and run on after it.
                        try await Task.sleep(for: .milliseconds(300))
                        let report = try await mover.run("acme", to: "east", sourceGrace: .zero)
                        try await Task.sleep(for: .milliseconds(300))
                        load.stop()
                        return report
                    }
                    var report: TenantMove.Report?
                    for try await result in group { if let result { report = result } }
                    return try #require(report)
                }
                #expect(load.failures == [])
                #expect(report.from == "primary" && report.to == "east")
                #expect(report.rowsCopied > 50)
                let ids = load.acknowledged
                #expect(ids.count > 10)

                // On the new shard: every acknowledged patient, read through the API.
                #expect(try await tenants.fetch(slug: "acme")?.shard == "east")
                for id in ids {
                    #expect(try await client.send(.get, "/api/v1/patients/\(id)", token: doctor).status == .ok)
                }
                let count = try await tenants.activeScope(slug: "acme").read { db in
                    try await db.raw("SELECT count(*) AS n FROM t_acme.patients").first()?.decode(column: "n", as: Int.self)
                }
                #expect(count == 50 + ids.count)
                // Its read finds the old schema dropped and runs on the new shard instead.
                let stale = try await before.read { db in
                    try await db.raw("SELECT count(*) AS n FROM t_acme.patients").first()?.decode(column: "n", as: Int.self)
                }
                #expect(stale == count)
                // A write after the move lands there too.
                _ = try await client.patient(doctor, ["given_name": "After", "family_name": "Load", "birth_date": "1972-01-01"])
            }
            await node.services.audit.moveJournal(everything: true, tenants: tenants)
            let scope = try await tenants.activeScope(slug: "acme")
            #expect((scope.database as? PostgresDatabase) !== (node.services.storage.controlPlane as? PostgresDatabase))
            let verification = try await node.services.audit.verify(scope)
            #expect(verification.firstBreak == nil)
            #expect(verification.checked > 100)
            // The old schema is gone from the primary; the move is recorded with its pause.
            let primary = node.services.storage.controlPlane
            #expect(try await primary.read { db in try await db.raw("SELECT 1 AS x FROM pg_namespace WHERE nspname = 't_acme'").first() } == nil)
            let move = try await primary.read { db in
                try await db.raw("SELECT status, pause_ms FROM platform.tenant_moves WHERE slug = 'acme'").first()
            }
            #expect(try move?.decode(column: "status", as: String.self) == "done")
            #expect(try move?.decode(column: "pause_ms", as: Int?.self) != nil)
            _ = eastURL
        }
    }

    @Test("migrations reach tenants on every shard; a tenant whose database cannot be built on a shard leaves no schema there")
    func migrationsAcrossShards() async throws {
        try await Self.withShardSite { site, eastURL in
            do {
                try await site.withStorage { storage in
                    _ = try await storage.tenants.shards?.add(name: "east", url: eastURL, ownerURL: nil, poolSize: 2, description: "")
                    #expect(try await storage.tenants.create(slug: "alpha", name: "Alpha").shard == "east")
                    #expect(try await storage.tenants.create(slug: "beta", name: "Beta").shard == "primary")
                }
                // A later build's migration reaches both, wherever they live.
                let widgets = Migration(9901, "create_widgets", ["CREATE TABLE widgets (id TEXT PRIMARY KEY)"])
                try await site.withStorage(tenantMigrations: [widgets]) { storage in
                    #expect(try await !storage.migrationsAreCurrent())
                    let applied = try await storage.migrateAll().filter { !$0.applied.isEmpty }.map(\.target)
                    #expect(applied == ["tenant alpha", "tenant beta"])
                    for slug in ["alpha", "beta"] {
                        let scope = try await storage.tenants.activeScope(slug: slug)
                        let table = try scope.table("widgets")
                        try await scope.transaction { db in try await db.insert(into: table).columns("id").values(SQLBind(slug)).run() }
                    }
                    #expect(try await storage.migrationsAreCurrent())
                }
                // Placed on east (primary closed), a tenant whose migrations fail leaves nothing there.
                let broken = Migration(9902, "broken", ["CREATE TABLE x (id TEXT)", "SELECT no_such_function()"])
                try await site.withStorage(tenantMigrations: [broken]) { storage in
                    try await storage.tenants.shards?.setAcceptsTenants("primary", false)
                    await #expect(throws: (any Error).self) { try await storage.tenants.create(slug: "epsilon", name: "Epsilon") }
                    #expect(try await storage.tenants.find(slug: "epsilon")?.status == .failed)
                    #expect(try await storage.tenants.find(slug: "epsilon")?.shard == "east")
                    #expect(try await !storage.tenants.databaseExists("epsilon"))
                }
            }
        }
    }

    @Test("a write the old schema refuses as moved, while the control plane does not name another shard yet, answers 503 Tenant moving with Retry-After and saves nothing; the retry goes through")
    func refusedBeforeTheSwitch() async throws {
        try await withTestSite(.postgres) { site in
            try await TestNode.with(site) { node in
                try await node.staff("desk@acme.test", roles: ["receptionist"])
                let scope = try await node.services.storage.tenants.activeScope(slug: "acme")
                let schema = try #require(scope.schema), patients = try scope.table("patients")
                // What a move's gate does once its switch has refused writes on this schema, here
                // without a move that ever points the tenant elsewhere (a move that crashed there).
                try await scope.transaction { database in
                    try await database.raw("""
                        CREATE FUNCTION \(ident: schema).refuse_moved() RETURNS trigger LANGUAGE plpgsql AS $$
                        BEGIN RAISE EXCEPTION 'tenant moved' USING ERRCODE = 'WMOVD'; END $$
                        """).run()
                    try await database.raw("CREATE TRIGGER refuse_moved BEFORE INSERT ON \(patients) FOR EACH STATEMENT EXECUTE FUNCTION \(ident: schema).refuse_moved()").run()
                }
                @Sendable func count() async throws -> Int? {
                    try await scope.read { try await $0.raw("SELECT COUNT(*) AS n FROM \(patients)").first()?.decode(column: "n", as: Int.self) }
                }
                try await node.test { client in
                    let token = try await client.token("desk@acme.test")
                    let refused = try await client.send(.post, "/api/v1/patients", token: token, json: ["given_name": "Ada", "family_name": "Okafor"])
                    #expect(refused.status == .serviceUnavailable)
                    #expect(refused.headers[.contentType] == "application/problem+json")
                    #expect(refused.json["title"] as? String == "Tenant moving")
                    #expect(refused.headers[.retryAfter] == "1")
                    #expect(try await count() == 0)

                    try await scope.transaction { database in try await database.raw("DROP TRIGGER refuse_moved ON \(patients)").run() }
                    let retried = try await client.send(.post, "/api/v1/patients", token: token, json: ["given_name": "Ada", "family_name": "Okafor"])
                    #expect(retried.status == .created)
                    #expect(try await count() == 1)
                }
            }
        }
    }

    @Test("a move is refused while another runs, and one left running by a crash can be abandoned")
    func oneMoveAtATime() async throws {
        try await Self.withTwoShards { node, _ in
            let tenants = node.services.storage.tenants
            try await tenants.shards?.setAcceptsTenants("east", false)
            _ = try await tenants.create(slug: "acme", name: "Acme")
            let primary = node.services.storage.controlPlane
            try await primary.transaction { db in
                try await db.raw("""
                    INSERT INTO platform.tenant_moves (id, slug, from_shard, to_shard, status, started_at)
                    VALUES ('crashed', 'acme', 'primary', 'east', 'copying', '2026-01-01T00:00:00.000Z')
                    """).run()
            }
            let mover = try tenants.mover()
            await #expect(throws: TenantMoveError.self) { try await mover.run("acme", to: "east", sourceGrace: .zero) }
            #expect(try await tenants.fetch(slug: "acme")?.shard == "primary")
            #expect(try await mover.abandon() == "acme")
            let report = try await mover.run("acme", to: "east", sourceGrace: .zero)
            #expect(report.to == "east")
            await #expect(throws: TenantMoveError.self) { try await mover.run("acme", to: "east", sourceGrace: .zero) }
        }
    }
}

extension TestClientProtocol {
    func token(_ email: String, tenant: String) async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["tenant": tenant, "email": email, "password": password])
        let response = try await execute(uri: "/api/v1/auth/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body))
        guard let token = response.json["access_token"] as? String else { throw CocoaError(.userCancelled) }
        return token
    }
}

/// What the load of a move test saw: the writes acknowledged, the failures, and when to stop.
final class LoadLog: Sendable {
    private let state = Mutex<(acknowledged: [String], failures: [String], stopped: Bool)>(([], [], false))
    var acknowledged: [String] { state.withLock { $0.acknowledged } }
    var failures: [String] { state.withLock { $0.failures } }
    var stopped: Bool { state.withLock { $0.stopped } }
    func acknowledge(_ id: String) { state.withLock { $0.acknowledged.append(id) } }
    func fail(_ what: String) { state.withLock { if $0.failures.count < 20 { $0.failures.append(what) } } }
    func stop() { state.withLock { $0.stopped = true } }
}
