import Foundation
import Prometheus
import SQLKit
import Testing
import WardCore
import WardStorage
import WardTestSupport
@testable import WardAudit

@Suite("Audit journal")
struct AuditJournalTests {
    /// A trail with a journal over storage holding two tenants.
    static func withJournal(
        _ backend: TestBackend, memoryLimit: Int = 16_384, _ body: (Storage, AuditTrail, [TenantScope]) async throws -> Void
    ) async throws {
        try await withTestSite(backend) { site in
            try await site.withStorage(platformMigrations: AuditMigrations.platform, tenantMigrations: AuditMigrations.all) { storage in
                for slug in ["acme", "zenith"] { try await storage.tenants.create(slug: slug, name: slug.capitalized) }
                let scopes = [try await storage.tenants.activeScope(slug: "acme"), try await storage.tenants.activeScope(slug: "zenith")]
                try await body(storage, Self.trail(storage, memoryLimit: memoryLimit), scopes)
            }
        }
    }

    static func trail(_ storage: Storage, memoryLimit: Int = 16_384) -> AuditTrail {
        AuditTrail(registry: PrometheusCollectorRegistry(), witness: AuditWitness(storage: storage),
                   journal: AuditJournal(storage: storage, memoryLimit: memoryLimit))
    }

    /// Reads `0..<count` in pairs, one of each tenant at a time, as reads spread over tenants
    /// arrive: they share the journal's batches, and none goes to a trail directly (as many of
    /// one tenant's at once would). Even numbers are `first`'s, odd ones `second`'s.
    static func readInPairs(_ trail: AuditTrail, _ first: TenantScope, _ second: TenantScope, count: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in stride(from: 0, to: count, by: 2) {
                group.addTask { try await trail.recordRead(AuditTrailTests.read(n), in: first) }
                group.addTask { try await trail.recordRead(AuditTrailTests.read(n + 1), in: second) }
                try await group.waitForAll()
            }
        }
    }

    /// Takes a tenant's trail away (its appends fail), or puts it back.
    static func trail(of scope: TenantScope, away: Bool) async throws {
        let (from, to) = away ? ("audit_events", "audit_events_away") : ("audit_events_away", "audit_events")
        try await scope.transaction { database in try await database.raw("ALTER TABLE \(unsafeRaw: from) RENAME TO \(unsafeRaw: to)").run() }
    }

    /// How many events the journal holds: on PostgreSQL, those of its batches and of the
    /// previous release's per-event table.
    static func journaled(_ storage: Storage) async throws -> Int {
        let space = storage.controlPlaneTarget.schema.map { "\"\($0)\"." } ?? ""
        let text = storage.controlPlane.dialect == .postgres
            ? "SELECT (SELECT count(*) FROM \(space)audit_journal) + (SELECT COALESCE(sum(event_count), 0) FROM \(space)audit_journal_batches) AS n"
            : "SELECT count(*) AS n FROM audit_journal"
        return try await storage.controlPlane.read { database in
            try await database.raw(SQLQueryString(stringLiteral: text)).first()!.decode(column: "n", as: Int.self)
        }
    }

    /// On PostgreSQL, inserts a batch row as a node would have written it.
    static func insertBatch(_ storage: Storage, tenantID: String, ids: [String]) async throws {
        let space = storage.controlPlaneTarget.schema.map { "\"\($0)\"." } ?? ""
        let events = "[" + ids.map { id in
            #"{"tenant_id":"\#(tenantID)","id":"\#(id)","occurred_at":"2026-12-03T00:00:00.000Z","actor_type":"user","actor_roles":"","action":"read","outcome":"success","details":"{}"}"#
        }.joined(separator: ",") + "]"
        try await storage.controlPlane.autocommit { database in
            try await database.raw("""
                INSERT INTO \(unsafeRaw: space)audit_journal_batches (tenants, event_count, oldest, events)
                VALUES (ARRAY[\(bind: tenantID)], \(bind: ids.count), '2026-12-03T00:00:00.000Z', \(bind: events))
                """).run()
        }
    }

    @Test("a batch row's JSON names every journal column once, each with the value SQLite binds")
    func batchRowColumns() async throws {
        try await Self.withJournal(.sqlite) { _, _, scopes in
            var record = AuditTrailTests.read(1)
            record.reason = "tab\there \"quoted\""
            record.actorRoles = ["doctor", "nurse"]
            let entry = AuditJournal.Entry(stamped: StampedRecord(record, at: Date()), scope: scopes[0])
            var json = ""
            AuditJournal.appendJSONRow(entry, to: &json)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            #expect(Set(object.keys) == Set(AuditJournal.columns) && object.count == AuditJournal.columns.count)
            for (column, value) in zip(AuditJournal.columns, AuditJournal.values(of: entry)) {
                switch value {
                case let text as String?: #expect(object[column] as? String == text, "\(column)")
                default: Issue.record("\(column) has no JSON form")
                }
            }
        }
    }

    @Test("a read is durable in the journal when it returns, and reaches its own tenant's trail, chained, when the trail is read", arguments: TestBackend.allCases)
    func readsReachTheirTrail(_ backend: TestBackend) async throws {
        try await Self.withJournal(backend) { storage, trail, scopes in
            try await Self.readInPairs(trail, scopes[0], scopes[1], count: 60)
            #expect(try await Self.journaled(storage) == 60)
            #expect(try await AuditStore.events(in: scopes[0], filter: .init(), before: nil, limit: 100).isEmpty, "not yet moved")

            let acme = try await trail.events(in: scopes[0], filter: .init(), before: nil, limit: 100)
            #expect(acme.count == 30 && Set(acme.compactMap(\.requestID)) == Set(stride(from: 0, to: 60, by: 2).map { "r\($0)" }))
            #expect(try await AuditStore.events(in: scopes[1], filter: .init(), before: nil, limit: 100).isEmpty, "only the trail read was moved")
            #expect(try await trail.verify(scopes[1], witness: AuditWitness(storage: storage)) == .init(checked: 30, firstBreak: nil))
            // The mover's round finds every event in its trail and empties the journal.
            #expect(await trail.moveJournal(everything: false, tenants: storage.tenants) == 0)
            #expect(try await Self.journaled(storage) == 0)
            #expect(try await trail.verify(scopes[0]) == .init(checked: 30, firstBreak: nil))

            // The event keeps the identity and time it was journaled with.
            var filter = AuditStore.Filter()
            filter.patientID = "p2"
            let event = try #require(try await trail.events(in: scopes[0], filter: filter, before: nil, limit: 1).first)
            #expect(event.actorName == "Reader 2" && event.details == ["n": "2"] && event.id.count == 36)
        }
    }

    @Test("events journaled before a crash are moved when a node starts, each once; a removed tenant's are discarded", arguments: TestBackend.allCases)
    func recovery(_ backend: TestBackend) async throws {
        try await Self.withJournal(backend) { storage, crashed, scopes in
            for n in 0..<10 { try await crashed.recordRead(AuditTrailTests.read(n), in: scopes[n % 2]) }
            // A tenant that is gone: its journaled events have no trail to go to. On PostgreSQL,
            // also rows of the per-event journal that a node of the previous release wrote (one
            // of a live tenant), and a batch of the gone tenant.
            let table = storage.controlPlaneTarget.schema.map { "\"\($0)\".audit_journal" } ?? "audit_journal"
            let legacy = backend == .postgres ? [("gone", "x"), (scopes[0].tenant.id, "earlier-release")] : [("gone", "x")]
            try await storage.controlPlane.autocommit { database in
                for (tenant, id) in legacy {
                    try await database.raw("""
                        INSERT INTO \(unsafeRaw: table) (tenant_id, id, occurred_at, actor_type, actor_roles, action, outcome, details)
                        VALUES (\(bind: tenant), \(bind: id), '2026-12-03T00:00:00.000Z', 'user', '', 'read', 'success', '{}')
                        """).run()
                }
            }
            if backend == .postgres { try await Self.insertBatch(storage, tenantID: "gone", ids: ["y", "z"]) }

            let restarted = Self.trail(storage)
            var movedEarlier = 0
            if backend == .postgres {
                // A live node's periodic sweep leaves another node's fresh batches to it, and
                // takes what is old: the per-event rows, the gone tenant's batch.
                #expect(await restarted.moveJournal(everything: true, leftoversOnly: true, tenants: storage.tenants) == 1)
                #expect(try await Self.journaled(storage) == 10)
                movedEarlier = 1
            }
            // A node starting over (another trail, nothing in memory) moves everything.
            #expect(await restarted.moveJournal(everything: true, tenants: storage.tenants) == legacy.count + 9 - movedEarlier)
            #expect(try await Self.journaled(storage) == 0)
            for (index, scope) in scopes.enumerated() {
                #expect(try await AuditStore.verify(scope) == .init(checked: index == 0 ? legacy.count + 4 : 5, firstBreak: nil))
            }
            #expect(await restarted.moveJournal(everything: true, tenants: storage.tenants) == 0)
        }
    }

    @Test("moves racing for one tenant (two nodes, a reader) append each event once", arguments: TestBackend.allCases)
    func racingMoves(_ backend: TestBackend) async throws {
        try await Self.withJournal(backend) { storage, trail, scopes in
            let other = Self.trail(storage)
            for round in 0..<5 {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for n in 0..<40 { group.addTask { try await trail.recordRead(AuditTrailTests.read(round * 40 + n), in: scopes[0]) } }
                    for _ in 0..<3 {
                        group.addTask { _ = try await trail.settle(scopes[0]) }
                        group.addTask { _ = try await other.settle(scopes[0]) }
                    }
                    try await group.waitForAll()
                }
            }
            #expect(try await trail.verify(scopes[0]) == .init(checked: 200, firstBreak: nil))
            let events = try await AuditStore.events(in: scopes[0], filter: .init(), before: nil, limit: 500)
            #expect(Set(events.compactMap(\.requestID)).count == 200)
        }
    }

    @Test("on SQLite, a move cut short after its append (journal rows not yet removed) does not append them again")
    func interruptedMove() async throws {
        try await Self.withJournal(.sqlite) { storage, trail, scopes in
            for n in 0..<3 { try await trail.recordRead(AuditTrailTests.read(n), in: scopes[0]) }
            let rows = try await storage.controlPlane.read { database in
                try await database.raw("SELECT * FROM audit_journal ORDER BY journal_seq").all()
            }
            #expect(try await trail.settle(scopes[0]) == 3)
            // Put the moved rows back, as if the node died between the two commits.
            try await storage.controlPlane.transaction { database in
                for row in rows {
                    let columns = ["journal_seq"] + AuditJournal.columns
                    let values = try columns.map { column -> SQLBind in
                        if column == "journal_seq" { return SQLBind(try row.decode(column: column, as: Int64.self)) }
                        return SQLBind(try row.decode(column: column, as: String?.self))
                    }
                    try await database.insert(into: "audit_journal").columns(columns).values(values).run()
                }
            }
            #expect(try await Self.journaled(storage) == 3)
            #expect(try await trail.settle(scopes[0]) == 0)
            #expect(try await Self.journaled(storage) == 0)
            #expect(try await AuditStore.verify(scopes[0]) == .init(checked: 3, firstBreak: nil))
            // Numbers are not reused after the journal empties: the next read is taken.
            try await trail.recordRead(AuditTrailTests.read(9), in: scopes[0])
            #expect(try await trail.settle(scopes[0]) == 1)
        }
    }

    @Test("a change follows in the trail the reads answered before it; a crash's journaled events are neither skipped nor doubled", arguments: TestBackend.allCases)
    func changesFollowReads(_ backend: TestBackend) async throws {
        try await Self.withJournal(backend) { storage, crashed, scopes in
            let scope = scopes[0]
            // Left by a node that stopped before moving them.
            try await crashed.recordRead(AuditTrailTests.read(1), in: scope)
            let trail = Self.trail(storage)
            try await trail.recordRead(AuditTrailTests.read(2), in: scope)
            var change = AuditTrailTests.read(3)
            change.action = "update"
            let first = change
            _ = try await scope.transaction { database in try await trail.append(first, in: database, scope: scope) }
            #expect(try await trail.settle(scope) <= 2)
            let early = try await AuditStore.events(in: scope, filter: .init(), before: nil, limit: 10, ascending: true)
            #expect(Set(early.compactMap(\.requestID)) == ["r1", "r2", "r3"])

            // Once the node's mover has been through the journal, a change takes its tenant's
            // reads first.
            await trail.moveJournal(everything: true, tenants: storage.tenants)
            for n in 4...5 { try await trail.recordRead(AuditTrailTests.read(n), in: scope) }
            change.requestID = "r6"
            let second = change
            _ = try await scope.transaction { database in try await trail.append(second, in: database, scope: scope) }
            let events = try await AuditStore.events(in: scope, filter: .init(), before: nil, limit: 10, ascending: true)
            #expect(events.suffix(3).compactMap(\.requestID) == ["r4", "r5", "r6"], "the reads were in the trail before the change")
            #expect(try await trail.settle(scope) == 0, "nothing left to move, nothing moved twice")
            #expect(try await trail.verify(scope) == .init(checked: 6, firstBreak: nil))
        }
    }

    @Test("a tenant with many reads at once commits them in its own trail's group commit; none is lost either way", arguments: TestBackend.allCases)
    func busyTenantGoesDirect(_ backend: TestBackend) async throws {
        try await Self.withJournal(backend) { storage, trail, scopes in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<200 { group.addTask { try await trail.recordRead(AuditTrailTests.read(n), in: scopes[0]) } }
                try await group.waitForAll()
            }
            let journaled = try await Self.journaled(storage)
            #expect(journaled < 200, "reads beyond \(trail.directReads) at once went to the trail directly")
            #expect(try await trail.verify(scopes[0]) == .init(checked: 200, firstBreak: nil))
            let events = try await AuditStore.events(in: scopes[0], filter: .init(), before: nil, limit: 500)
            #expect(Set(events.compactMap(\.requestID)).count == 200)
        }
    }

    /// Copies `count` journal rows like the tenant's first one, with new ids (or the same id,
    /// `repeatID`), straight into the journal.
    static func copyJournalRows(_ storage: Storage, of tenantID: String, count: Int, round: Int = 0, repeatID: Bool = false) async throws {
        let table = storage.controlPlaneTarget.schema.map { "\"\($0)\".audit_journal" } ?? "audit_journal"
        let columns = AuditJournal.columns.filter { $0 != "id" && $0 != "request_id" }.joined(separator: ", ")
        try await storage.controlPlane.transaction { database in
            for n in 0..<count {
                let id = repeatID ? "id" : "'copy-\(tenantID)-\(round)-\(n)'"
                try await database.raw("""
                    INSERT INTO \(unsafeRaw: table) (id, request_id, \(unsafeRaw: columns))
                    SELECT \(unsafeRaw: id), \(bind: "copy-\(n)"), \(unsafeRaw: columns) FROM \(unsafeRaw: table)
                    WHERE tenant_id = \(bind: tenantID) ORDER BY journal_seq LIMIT 1
                    """).run()
            }
        }
    }

    @Test("a journal row written twice (an answer lost after its commit) reaches the trail once", arguments: TestBackend.allCases)
    func repeatedRow(_ backend: TestBackend) async throws {
        try await Self.withJournal(backend) { storage, trail, scopes in
            try await trail.recordRead(AuditTrailTests.read(1), in: scopes[0])
            if backend == .postgres {
                let space = storage.controlPlaneTarget.schema.map { "\"\($0)\"." } ?? ""
                try await storage.controlPlane.autocommit { database in
                    try await database.raw("""
                        INSERT INTO \(unsafeRaw: space)audit_journal_batches (tenants, event_count, oldest, events)
                        SELECT tenants, event_count, oldest, events FROM \(unsafeRaw: space)audit_journal_batches
                        """).run()
                }
            } else {
                try await Self.copyJournalRows(storage, of: scopes[0].tenant.id, count: 1, repeatID: true)
            }
            #expect(try await Self.journaled(storage) == 2)
            #expect(try await trail.settle(scopes[0]) == 1)
            #expect(await trail.moveJournal(everything: true, tenants: storage.tenants) == 0)
            #expect(try await Self.journaled(storage) == 0)
            #expect(try await trail.verify(scopes[0]) == .init(checked: 1, firstBreak: nil))
        }
    }

    @Test("on PostgreSQL, a batch stays while a tenant in it cannot take its events; the others' are moved once, and nothing is lost")
    func batchWaitsForItsFailingTenant() async throws {
        try await Self.withJournal(.postgres) { storage, trail, scopes in
            let (healthy, failing) = (scopes[0], scopes[1])
            try await Self.readInPairs(trail, healthy, failing, count: 40)
            try await Self.trail(of: failing, away: true)
            #expect(await trail.moveJournal(everything: false, tenants: storage.tenants) == 20)
            #expect(try await Self.journaled(storage) > 0, "the batches holding the failing tenant's events are kept")
            #expect(try await AuditStore.verify(healthy) == .init(checked: 20, firstBreak: nil))
            // Another node's sweep moves nothing more: one tenant's events are in its trail, the
            // other's still refused.
            #expect(await Self.trail(storage).moveJournal(everything: true, tenants: storage.tenants) == 0)

            try await Self.trail(of: failing, away: false)
            #expect(await trail.moveJournal(everything: false, tenants: storage.tenants) == 20)
            #expect(try await Self.journaled(storage) == 0)
            for scope in [healthy, failing] {
                #expect(try await trail.verify(scope) == .init(checked: 20, firstBreak: nil))
            }
        }
    }

    @Test("on PostgreSQL, a tenant whose moves keep failing is not held in memory without end: past the limit its batches go to the sweeps, and none is lost")
    func failingTenantLeftToSweeps() async throws {
        try await Self.withJournal(.postgres, memoryLimit: 10) { storage, trail, scopes in
            let (healthy, failing) = (scopes[0], scopes[1])
            try await Self.readInPairs(trail, healthy, failing, count: 40)
            try await Self.trail(of: failing, away: true)
            #expect(await trail.moveJournal(everything: false, tenants: storage.tenants) == 20)
            let journal = try #require(trail.journal)
            #expect(journal.unmovedCount(of: failing.tenant.id) == 0, "released from memory")
            #expect(journal.ownBatches().isEmpty, "its batches are no longer this node's")
            #expect(try await Self.journaled(storage) > 0, "and stay in the journal")

            try await Self.trail(of: failing, away: false)
            // A reader finds every event; a sweep then empties the journal.
            #expect(try await trail.events(in: failing, filter: .init(), before: nil, limit: 100).count == 20)
            #expect(await trail.moveJournal(everything: true, tenants: storage.tenants) == 0)
            #expect(try await Self.journaled(storage) == 0)
            for scope in [healthy, failing] {
                #expect(try await trail.verify(scope) == .init(checked: 20, firstBreak: nil))
            }
        }
    }

    @Test("on SQLite, a tenant whose trail refuses its events keeps every one of them through a long journal, in order, until it takes them")
    func failingTenantKeepsItsEvents() async throws {
        try await Self.withJournal(.sqlite) { storage, trail, scopes in
            let (healthy, failing) = (scopes[0], scopes[1])
            for scope in scopes { try await trail.recordRead(AuditTrailTests.read(0), in: scope) }
            // More rows than a round reads at once, the two tenants' interleaved.
            for round in 0..<3 {
                for scope in scopes { try await Self.copyJournalRows(storage, of: scope.tenant.id, count: AuditJournal.roundBatch / 4, round: round) }
            }
            let perTenant = 1 + 3 * AuditJournal.roundBatch / 4
            try await failing.transaction { database in try await database.raw("ALTER TABLE audit_events RENAME TO audit_events_away").run() }
            #expect(await trail.moveJournal(everything: true, tenants: storage.tenants) == perTenant)
            #expect(try await Self.journaled(storage) == perTenant, "the failing tenant's rows are all kept")

            try await failing.transaction { database in try await database.raw("ALTER TABLE audit_events_away RENAME TO audit_events").run() }
            #expect(await trail.moveJournal(everything: true, tenants: storage.tenants) == perTenant)
            #expect(try await Self.journaled(storage) == 0)
            for scope in [healthy, failing] {
                #expect(try await trail.verify(scope) == .init(checked: perTenant, firstBreak: nil))
            }
        }
    }
}
