import Foundation
import Prometheus
import SQLKit
import Testing
import WardCore
import WardStorage
import WardTestSupport
@testable import WardAudit

@Suite("Audit trail")
struct AuditTrailTests {
    static func withTrail(_ backend: TestBackend, _ body: (AuditTrail, TenantScope, PrometheusCollectorRegistry) async throws -> Void) async throws {
        try await withTestSite(backend) { site in
            try await site.withStorage(tenantMigrations: AuditMigrations.all) { storage in
                try await storage.tenants.create(slug: "acme", name: "Acme")
                let scope = try await storage.tenants.activeScope(slug: "acme")
                let registry = PrometheusCollectorRegistry()
                try await body(AuditTrail(registry: registry), scope, registry)
            }
        }
    }

    static func read(_ n: Int) -> AuditRecord {
        AuditRecord(actorID: "u\(n)", actorName: "Reader \(n)", actorRoles: ["doctor"], action: "read", resourceType: "patient",
                    resourceID: "p\(n)", patientID: "p\(n)", clientAddress: "10.0.0.\(n % 250)", requestID: "r\(n)", details: ["n": "\(n)"])
    }

    @Test("the canonical encoding behind each hash never changes: trails written earlier still verify")
    func canonicalHash() {
        let event = AuditEvent(
            id: "01938a2b-0000-7000-8000-000000000001", seq: 7, occurredAt: "2026-12-01T10:00:00.000Z", actorType: .user,
            actorID: "u1", actorName: "Dr \"Quote\"", actorRoles: ["doctor", "nurse"], action: "read", resourceType: "patient",
            resourceID: "p1", patientID: "p1", outcome: .success, reason: nil, clientAddress: "127.0.0.1", userAgent: nil,
            requestID: "r1", details: ["b": "2", "a": "x\ny"], prevHash: AuditEvent.genesisHash, hash: ""
        )
        // SHA-256 of the documented encoding, computed outside Swift.
        #expect(event.computedHash() == "08eee691c0f12fa68718067c1541a3560edfbc2039a87bb3fffe1641e599b569")
    }

    @Test("every field is stored as given: quotes, backslashes, tabs and line breaks, other scripts, absent values; other control characters become U+FFFD", arguments: TestBackend.allCases)
    func oddFields(_ backend: TestBackend) async throws {
        try await Self.withTrail(backend) { trail, scope, _ in
            let odd = AuditRecord(
                actorID: "u\"1", actorName: "Dr \"Quote\" \\ Ñoño 🩺", actorRoles: ["doctor", "nurse"], action: "read", resourceType: nil,
                resourceID: nil, patientID: nil, outcome: .denied, reason: nil, clientAddress: nil, userAgent: "Mozilla/5.0\t(x)\u{1}",
                requestID: nil, details: ["a": "x\ny", "emoji": "🩺", "quote": "\"'"]
            )
            try await trail.record(odd, in: scope)
            try await trail.record(Self.read(2), in: scope)

            let stored = try await AuditStore.events(in: scope, filter: .init(), before: nil, limit: 10, ascending: true)
            let event = try #require(stored.first)
            #expect(event.actorID == odd.actorID && event.actorName == odd.actorName && event.actorRoles == odd.actorRoles)
            #expect(event.resourceType == nil && event.resourceID == nil && event.patientID == nil && event.reason == nil)
            #expect(event.clientAddress == nil && event.requestID == nil && event.outcome == .denied)
            #expect(event.userAgent == "Mozilla/5.0\t(x)\u{FFFD}" && event.details == odd.details)
            #expect(stored[1].patientID == "p2" && stored[1].requestID == "r2")
            #expect(try await AuditStore.verify(scope) == .init(checked: 2, firstBreak: nil))
        }
    }

    @Test("the JSON row PostgreSQL reads a batch from names every column once")
    func jsonRowColumns() throws {
        var json = ""
        let event = AuditEvent(
            id: "e1", seq: 9, occurredAt: "2026-12-01T10:00:00.000Z", actorType: .user, actorID: nil, actorName: nil, actorRoles: [],
            action: "read", resourceType: nil, resourceID: nil, patientID: nil, outcome: .success, reason: nil, clientAddress: nil,
            userAgent: nil, requestID: nil, details: [:], prevHash: AuditEvent.genesisHash, hash: "h"
        )
        AuditStore.appendJSONRow(event, to: &json)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(Set(object.keys) == Set(AuditStore.columns) && object.count == AuditStore.columns.count)
        #expect(object["seq"] as? Int == 9 && object["actor_id"] is NSNull && object["details"] as? String == "{}")

        // Every field set, with text JSON must escape: each member is the value SQLite binds.
        let full = AuditEvent(
            id: "e2", seq: 10, occurredAt: "2026-12-01T10:00:01.000Z", actorType: .user, actorID: "u\"1", actorName: "Dr \\ O'Neil\n",
            actorRoles: ["doctor", "nurse"], action: "patient.read", resourceType: "patient", resourceID: "p1", patientID: "p1",
            outcome: .denied, reason: "tab\there", clientAddress: "10.0.0.1", userAgent: "Mozilla/5.0 \u{1F600}", requestID: "r1",
            details: ["b": "2", "a": "\u{0}"], prevHash: "p", hash: "h"
        )
        var row = ""
        AuditStore.appendJSONRow(full, to: &row)
        let members = try #require(try JSONSerialization.jsonObject(with: Data(row.utf8)) as? [String: Any])
        for (column, value) in zip(AuditStore.columns, AuditStore.values(of: full)) {
            switch value {
            case let number as Int64: #expect(members[column] as? Int64 == number, "\(column)")
            case let text as String?: #expect(members[column] as? String == text, "\(column)")
            default: Issue.record("\(column) has no JSON form")
            }
        }
    }

    @Test("events chain by hash and keep every field", arguments: TestBackend.allCases)
    func chain(_ backend: TestBackend) async throws {
        try await Self.withTrail(backend) { trail, scope, _ in
            for n in 1...5 { try await trail.record(Self.read(n), in: scope) }

            let events = try await AuditStore.events(in: scope, filter: .init(), before: nil, limit: 10, ascending: true)

            #expect(events.map(\.seq) == [1, 2, 3, 4, 5])
            #expect(events[0].prevHash == AuditEvent.genesisHash)
            for index in 1..<events.count { #expect(events[index].prevHash == events[index - 1].hash) }
            #expect(events.allSatisfy { $0.hash == $0.computedHash() })
            let third = events[2]
            #expect(third.actorID == "u3" && third.actorName == "Reader 3" && third.actorRoles == ["doctor"])
            #expect(third.action == "read" && third.resourceType == "patient" && third.patientID == "p3" && third.outcome == .success)
            #expect(third.requestID == "r3" && third.clientAddress == "10.0.0.3" && third.details == ["n": "3"])
            #expect(try await AuditStore.verify(scope) == .init(checked: 5, firstBreak: nil))
        }
    }

    @Test("editing, deleting or reordering rows breaks the chain at the right link", arguments: TestBackend.allCases)
    func tampering(_ backend: TestBackend) async throws {
        for attack in ["edit", "delete", "reorder"] {
            try await Self.withTrail(backend) { trail, scope, _ in
                for n in 1...6 { try await trail.record(Self.read(n), in: scope) }
                let table = try scope.table("audit_events")
                // An attacker with database access first removes the append-only guard.
                let dropGuards = backend == .sqlite
                    ? ["DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"]
                    : ["DROP TRIGGER audit_events_append_only ON audit_events"]
                try await scope.transaction { database in
                    for statement in dropGuards { try await database.raw(SQLQueryString(statement)).run() }
                    switch attack {
                    case "edit":
                        try await database.update(table).set("actor_id", to: "someone-else").where("seq", .equal, 3).run()
                    case "delete":
                        try await database.delete(from: table).where("seq", .equal, 4).run()
                    default:
                        // Swap the contents of events 2 and 5, keeping their sequence numbers.
                        try await database.update(table).set("seq", to: -2).where("seq", .equal, 2).run()
                        try await database.update(table).set("seq", to: 2).where("seq", .equal, 5).run()
                        try await database.update(table).set("seq", to: 5).where("seq", .equal, -2).run()
                    }
                }

                let result = try await AuditStore.verify(scope)

                let expected: Int64 = attack == "edit" ? 3 : attack == "delete" ? 4 : 2
                #expect(result.firstBreak?.seq == expected, "\(attack)")
                #expect(result.checked == Int(expected) - 1)
            }
        }
    }

    @Test("the application cannot update or delete audit rows", arguments: TestBackend.allCases)
    func appendOnly(_ backend: TestBackend) async throws {
        try await Self.withTrail(backend) { trail, scope, _ in
            try await trail.record(Self.read(1), in: scope)
            let table = try scope.table("audit_events")
            await #expect(throws: (any Error).self) {
                try await scope.transaction { database in try await database.update(table).set("action", to: "nothing").run() }
            }
            await #expect(throws: (any Error).self) {
                try await scope.transaction { database in try await database.delete(from: table).run() }
            }
            #expect(try await AuditStore.verify(scope).firstBreak == nil)
        }
    }

    @Test("concurrent reads share group commits", arguments: TestBackend.allCases)
    func groupCommit(_ backend: TestBackend) async throws {
        try await Self.withTrail(backend) { trail, scope, registry in
            // Hold the tenant's audit lock so every submission queues behind the first commit.
            let release = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await scope.transaction { database in
                    if backend == .postgres, let schema = scope.schema {
                        try await database.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: "ward.audit." + schema)))").run()
                    }
                    for await _ in release.stream { break }
                }
            }
            try await Task.sleep(for: .milliseconds(100))
            let submissions = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for n in 1...40 { group.addTask { try await trail.record(Self.read(n), in: scope) } }
                    try await group.waitForAll()
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            release.continuation.yield()
            try await holder.value
            try await submissions.value

            let exposition = registry.emitToString()
            let commits = exposition.split(separator: "\n").first { $0.hasPrefix("audit_batch_size_count") }
                .flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
            #expect(commits >= 1)
            #expect(commits <= 3, "40 events took \(commits) commits")
            #expect(exposition.contains(#"audit_events_total{action="read",outcome="success"} 40"#))
            #expect(try await AuditStore.verify(scope) == .init(checked: 40, firstBreak: nil))
        }
    }

    @Test("on PostgreSQL a batch follows the tail it was given in one statement, and only while that tail is the trail's end (and, for journaled events, while none of them is there)")
    func appendFollowingTail() async throws {
        try await Self.withTrail(.postgres) { _, scope, _ in
            let first = try await scope.transaction { database in
                try await AuditTrail.insertReturningTail([StampedRecord(Self.read(1), at: Date())], in: database, scope: scope, patientIndexBatch: 1024)
            }
            let followed = try #require(try await AuditTrail.appendFollowing(first.tail, [Self.read(2), Self.read(3)].map { StampedRecord($0, at: Date()) }, scope: scope))
            #expect(followed.events.map(\.seq) == [2, 3])
            #expect(followed.events[0].prevHash == first.tail.hash)
            #expect(followed.tail.seq == 3 && followed.tail.hash == followed.events[1].hash)

            // Stale (the trail moved on), a wrong hash, or a tail past the end: nothing is written.
            var wrongHash = followed.tail
            wrongHash.hash = String(repeating: "0", count: 64)
            var ahead = followed.tail
            ahead.seq += 1
            for tail in [first.tail, wrongHash, ahead] {
                #expect(try await AuditTrail.appendFollowing(tail, [StampedRecord(Self.read(9), at: Date())], scope: scope) == nil)
            }
            #expect(try await AuditStore.verify(scope) == .init(checked: 3, firstBreak: nil))

            // Journaled events another appender moved first: with any of them in the trail,
            // nothing is written; with none, all are.
            let moved = followed.events[1]
            let again = StampedRecord(record: Self.read(3), id: moved.id, occurredAt: moved.occurredAt)
            let fresh = StampedRecord(Self.read(4), at: Date())
            #expect(try await AuditTrail.appendFollowing(followed.tail, [fresh, again], scope: scope) == nil)
            let appended = try #require(try await AuditTrail.appendFollowing(followed.tail, [fresh], scope: scope))
            #expect(appended.events.map(\.seq) == [4])
            #expect(try await AuditStore.verify(scope) == .init(checked: 4, firstBreak: nil))
        }
    }

    @Test("two nodes' writers and a mutation appending to one trail at once keep one unbroken chain", arguments: TestBackend.allCases)
    func concurrentAppenders(_ backend: TestBackend) async throws {
        try await Self.withTrail(backend) { trail, scope, _ in
            let other = AuditTrail(registry: PrometheusCollectorRegistry())
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<120 {
                    group.addTask { try await (n % 2 == 0 ? trail : other).record(Self.read(n), in: scope) }
                    if n % 10 == 0 {
                        group.addTask {
                            _ = try await scope.transaction { database in
                                try await AuditTrail.insert([Self.read(1_000 + n)], in: database, scope: scope, patientIndexBatch: 1024)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await AuditStore.verify(scope) == .init(checked: 132, firstBreak: nil))
            let events = try await AuditStore.events(in: scope, filter: .init(), before: nil, limit: 500, ascending: true)
            #expect(Set(events.compactMap(\.requestID)).count == 132, "each event recorded once")
        }
    }

    @Test("a failed commit fails the caller: nothing continues unaudited", arguments: TestBackend.allCases)
    func failedCommit(_ backend: TestBackend) async throws {
        try await Self.withTrail(backend) { trail, scope, _ in
            try await trail.record(Self.read(1), in: scope)
            try await scope.transaction { database in try await database.raw("ALTER TABLE audit_events RENAME TO audit_events_gone").run() }

            await #expect(throws: (any Error).self) { try await trail.record(Self.read(2), in: scope) }

            try await scope.transaction { database in try await database.raw("ALTER TABLE audit_events_gone RENAME TO audit_events").run() }
            try await trail.record(Self.read(3), in: scope)
            #expect(try await AuditStore.verify(scope) == .init(checked: 2, firstBreak: nil))
        }
    }

    /// Appends `count` events in transactions of 500 (as many concurrent writers would): every
    /// seventh concerns no patient, the rest one of ten patients in turn.
    static func fill(_ count: Int, in scope: TenantScope, patientIndexBatch: Int64) async throws {
        for start in stride(from: 0, to: count, by: 500) {
            let records = (start..<min(start + 500, count)).map { n in
                var record = read(n)
                record.patientID = n % 7 == 0 ? nil : "p\(n % 10)"
                return record
            }
            _ = try await scope.transaction { database in
                try await AuditTrail.insert(records, in: database, scope: scope, patientIndexBatch: patientIndexBatch)
            }
        }
    }

    static func pages(of patientID: String, in scope: TenantScope, ascending: Bool) async throws -> [Int64] {
        var filter = AuditStore.Filter()
        filter.patientID = patientID
        var seqs: [Int64] = [], cursor: Int64?
        while true {
            let page = try await AuditStore.events(in: scope, filter: filter, before: cursor, limit: 300, ascending: ascending)
            #expect(page.allSatisfy { $0.patientID == patientID })
            seqs += page.map(\.seq)
            guard page.count == 300, let last = page.last else { return seqs }
            cursor = last.seq
        }
    }

    @Test("a patient's events are found across index buckets and the unindexed tail, in order, page by page", arguments: TestBackend.allCases)
    func patientIndex(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withStorage(tenantMigrations: AuditMigrations.all) { storage in
                try await storage.tenants.create(slug: "acme", name: "Acme")
                let scope = try await storage.tenants.activeScope(slug: "acme")
                let trail = AuditTrail(registry: PrometheusCollectorRegistry(), patientIndexBatch: 1000)
                // Two buckets of 8,192 (the second partly filled), then reads through the
                // group-commit writer that stay short of a batch: the tail past the mark.
                try await Self.fill(9_000, in: scope, patientIndexBatch: 1000)
                for n in 0..<40 { try await trail.record(Self.read(n), in: scope) }

                let markTable = try scope.table("audit_patient_indexed")
                let mark = try await scope.read { database in
                    try await database.raw("SELECT through_seq FROM \(markTable)").first()?.decode(column: "through_seq", as: Int64.self)
                }
                #expect(mark == 9_000)
                let all = try await AuditStore.events(in: scope, filter: .init(), before: nil, limit: 10_000, ascending: true)
                #expect(all.count == 9_040)
                for patient in ["p3", "p0"] {
                    let expected = all.filter { $0.patientID == patient }.map(\.seq)
                    #expect(expected.count > 600 && expected.last! > 9_000, "the tail holds \(patient)'s newest events")
                    #expect(try await Self.pages(of: patient, in: scope, ascending: false) == expected.reversed())
                    #expect(try await Self.pages(of: patient, in: scope, ascending: true) == expected)
                }
                #expect(try await Self.pages(of: "nobody", in: scope, ascending: false).isEmpty)
                #expect(try await AuditStore.verify(scope) == .init(checked: 9_040, firstBreak: nil))
            }
        }
    }

    @Test("the patient index cannot be edited or wound back, and a row removed behind its guard fails verification", arguments: TestBackend.allCases)
    func patientIndexGuard(_ backend: TestBackend) async throws {
        try await Self.withTrail(backend) { _, scope, _ in
            try await Self.fill(30, in: scope, patientIndexBatch: 10)
            let index = try scope.table("audit_patient_events"), mark = try scope.table("audit_patient_indexed")
            for attempt: SQLQueryString in [
                "UPDATE \(index) SET patient_id = 'p9' WHERE seq = 3", "DELETE FROM \(index) WHERE seq = 3",
                "UPDATE \(mark) SET through_seq = 1", "DELETE FROM \(mark)",
            ] {
                await #expect(throws: (any Error).self) { try await scope.transaction { database in try await database.raw(attempt).run() } }
            }
            #expect(try await AuditStore.verify(scope) == .init(checked: 30, firstBreak: nil))

            try await scope.transaction { database in
                let dropGuard: SQLQueryString = backend == .sqlite
                    ? "DROP TRIGGER audit_patient_events_no_delete" : "DROP TRIGGER audit_patient_events_append_only ON audit_patient_events"
                try await database.raw(dropGuard).run()
                try await database.raw("DELETE FROM \(index) WHERE seq = 3").run()
            }
            let result = try await AuditStore.verify(scope)
            #expect(result.firstBreak?.seq == 3)
            #expect(result.firstBreak?.problem == "event 3 is missing from the patient index")
        }
    }

    @Test("a value of any length or content is stored within its bound, marked, and the trail goes on (a 3,000-character id once broke a PostgreSQL tenant)",
          arguments: TestBackend.allCases)
    func boundedFields(_ backend: TestBackend) async throws {
        try await Self.withTrail(backend) { trail, scope, _ in
            let long = String(repeating: "é", count: 3000)
            var hostile = Self.read(1)
            hostile.patientID = long
            hostile.resourceID = "x\u{0}y" + long
            hostile.reason = String(repeating: "r", count: 5000)
            hostile.details = Dictionary(uniqueKeysWithValues: (0..<100).map { ("key\($0)", String(repeating: "v", count: 2000)) })
            try await trail.record(hostile, in: scope)
            try await trail.record(Self.read(2), in: scope)

            let stored = try await AuditStore.events(in: scope, filter: .init(), before: nil, limit: 10, ascending: true)
            #expect(stored.count == 2)
            let event = try #require(stored.first)
            let mark = "…[truncated]"
            #expect(event.patientID!.utf8.count <= 128 && event.patientID!.hasSuffix(mark) && event.patientID!.hasPrefix("éé"))
            #expect(event.resourceID!.hasPrefix("x\u{FFFD}y") && event.resourceID!.utf8.count <= 128)
            #expect(event.reason!.utf8.count <= 1000 && event.reason!.hasSuffix(mark))
            #expect(event.details.count == 32 && event.details.values.allSatisfy { $0.utf8.count <= 512 })
            #expect(try await AuditStore.verify(scope) == .init(checked: 2, firstBreak: nil))
        }
    }

    @Test("an event the database refuses is refused on its own: the rest of its batch commits, and so do later batches", arguments: TestBackend.allCases)
    func poisonedBatch(_ backend: TestBackend) async throws {
        try await Self.withTrail(backend) { trail, scope, _ in
            // A stand-in for any event the database would refuse.
            try await scope.transaction { database in
                if scope.database.dialect == .postgres {
                    try await database.raw("ALTER TABLE audit_events ADD CONSTRAINT no_poison CHECK (action <> 'poison')").run()
                } else {
                    try await database.raw("CREATE TRIGGER no_poison BEFORE INSERT ON audit_events WHEN NEW.action = 'poison' BEGIN SELECT RAISE(ABORT, 'poison'); END").run()
                }
            }
            let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
                for n in 1...40 {
                    group.addTask {
                        var record = Self.read(n)
                        if n == 7 { record.action = "poison" }
                        do { try await trail.record(record, in: scope); return (n, true) } catch { return (n, false) }
                    }
                }
                var outcomes: [Int: Bool] = [:]
                for try await (n, committed) in group { outcomes[n] = committed }
                return outcomes
            }
            #expect(outcomes[7] == false)
            #expect(outcomes.filter { $0.value }.count == 39)
            try await trail.record(Self.read(41), in: scope)
            let events = try await AuditStore.events(in: scope, filter: .init(), before: nil, limit: 100, ascending: true)
            #expect(events.count == 40 && !events.contains { $0.action == "poison" })
            #expect(try await AuditStore.verify(scope) == .init(checked: 40, firstBreak: nil))
        }
    }
}

extension AuditTrail {
    /// Appends `records`, stamped now, inside the caller's transaction.
    static func insert(_ records: [AuditRecord], in database: any SQLDatabase, scope: TenantScope, patientIndexBatch: Int64) async throws -> [AuditEvent] {
        let now = Date()
        return try await insertReturningTail(records.map { StampedRecord($0, at: now) }, in: database, scope: scope,
                                             patientIndexBatch: patientIndexBatch).events
    }
}
