import Foundation
import Prometheus
import SQLKit
import Testing
import WardCore
import WardStorage
import WardTestSupport
@testable import WardAudit

@Suite("Audit witness")
struct AuditWitnessTests {
    /// A tenant's trail with the control plane's witness table.
    static func withWitness(_ backend: TestBackend, _ body: (AuditTrail, TenantScope, AuditWitness) async throws -> Void) async throws {
        try await withTestSite(backend) { site in
            try await site.withStorage(platformMigrations: AuditMigrations.platform, tenantMigrations: AuditMigrations.all) { storage in
                try await storage.tenants.create(slug: "acme", name: "Acme")
                let scope = try await storage.tenants.activeScope(slug: "acme")
                try await body(AuditTrail(registry: PrometheusCollectorRegistry()), scope, AuditWitness(storage: storage))
            }
        }
    }

    /// What someone with write access to the tenant's database, but not to the control plane,
    /// can do: switch the append-only triggers off and remove the newest events.
    static func cut(_ scope: TenantScope, after seq: Int64) async throws {
        let events = try scope.table("audit_events")
        try await scope.transaction { database in
            if scope.database.dialect == .postgres {
                try await database.raw("ALTER TABLE \(events) DISABLE TRIGGER USER").run()
            } else {
                try await database.raw("DROP TRIGGER audit_events_no_delete").run()
            }
            try await database.delete(from: events).where("seq", .greaterThan, seq).run()
        }
    }

    @Test("a trail cut short after its head was witnessed fails verification; without the witness it would pass",
          arguments: TestBackend.allCases)
    func truncation(_ backend: TestBackend) async throws {
        try await Self.withWitness(backend) { trail, scope, witness in
            #expect(try await witness.record(scope) == nil, "an empty trail has no head to witness")
            for n in 1...5 { try await trail.record(AuditTrailTests.read(n), in: scope) }
            #expect(try await witness.record(scope)?.seq == 5)
            for n in 6...7 { try await trail.record(AuditTrailTests.read(n), in: scope) }
            let head = try #require(try await witness.record(scope))
            #expect(head.seq == 7)
            #expect(try await AuditStore.verify(scope, witness: witness) == .init(checked: 7, firstBreak: nil))

            try await Self.cut(scope, after: 5)

            // The shortened trail is a valid chain of its own ...
            #expect(try await AuditStore.verify(scope) == .init(checked: 5, firstBreak: nil))
            // ... but not the trail the control plane saw.
            let verified = try await AuditStore.verify(scope, witness: witness)
            #expect(verified.firstBreak?.seq == 7)
            #expect(verified.firstBreak?.problem.contains("cut short") == true)

            // Recording again does not move the witness back to the shortened head.
            #expect(try await witness.record(scope) == head)
            // Nor does a forged continuation satisfy it: new events reuse the removed numbers
            // with other hashes.
            for n in 8...9 { try await trail.record(AuditTrailTests.read(n), in: scope) }
            let forged = try await AuditStore.verify(scope, witness: witness)
            #expect(forged.firstBreak?.seq == 7)
            #expect(forged.firstBreak?.problem.contains("differs from the one witnessed") == true)
        }
    }

    /// Polls the witness until `condition` holds for the head (the writer hands heads over in a task of their own).
    static func head(of scope: TenantScope, in witness: AuditWitness, until condition: (AuditWitness.Head?) -> Bool) async throws -> AuditWitness.Head? {
        for _ in 0..<100 {
            let head = try await witness.head(of: scope.tenant)
            if condition(head) { return head }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await witness.head(of: scope.tenant)
    }

    @Test("a group-commit writer hands the head it committed to the witness, at most once per interval", arguments: TestBackend.allCases)
    func writerWitnesses(_ backend: TestBackend) async throws {
        try await Self.withWitness(backend) { _, scope, witness in
            let hourly = AuditTrail(registry: PrometheusCollectorRegistry(), witness: witness, witnessInterval: .seconds(3600))
            try await hourly.record(AuditTrailTests.read(1), in: scope)
            let first = try await Self.head(of: scope, in: witness) { $0 != nil }
            #expect(first?.seq == 1)
            for n in 2...3 { try await hourly.record(AuditTrailTests.read(n), in: scope) }
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await witness.head(of: scope.tenant) == first, "within the interval the writer leaves the witness alone")

            let eager = AuditTrail(registry: PrometheusCollectorRegistry(), witness: witness, witnessInterval: .zero)
            try await eager.record(AuditTrailTests.read(4), in: scope)
            let newest = try #require(try await AuditStore.events(in: scope, filter: .init(), before: nil, limit: 1).first)
            let followed = try await Self.head(of: scope, in: witness) { $0?.seq == 4 }
            #expect(followed?.seq == 4 && followed?.hash == newest.hash)
            #expect(try await AuditStore.verify(scope, witness: witness) == .init(checked: 4, firstBreak: nil))
        }
    }

    @Test("the witness job opens a SQLite tenant's file only when it was written since its head was confirmed; a schema always",
          arguments: TestBackend.allCases)
    func jobSkipsUnwrittenFiles(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withStorage(platformMigrations: AuditMigrations.platform, tenantMigrations: AuditMigrations.all) { storage in
                let tenant = try await storage.tenants.create(slug: "acme", name: "Acme")
                let scope = try await storage.tenants.activeScope(slug: "acme")
                let trail = AuditTrail(registry: PrometheusCollectorRegistry()), witness = AuditWitness(storage: storage)
                for n in 1...3 { try await trail.record(AuditTrailTests.read(n), in: scope) }
                try await witness.recordIfWritten(tenant, in: storage.tenants)
                let recorded = try #require(try await witness.head(of: tenant))
                #expect(recorded.seq == 3)

                // More than the second's margin after the last write: the next run confirms the
                // head, and the one after it finds nothing written since. (On a machine slow
                // enough that the first run already came more than a second after the last
                // write, that run was the confirmation, and the next finds nothing written.)
                let lastWrite = backend == .sqlite ? try storage.tenants.lastWritten(tenant) : nil
                let confirmedAlready = lastWrite.map { $0 < Timestamp.date(recorded.recordedAt)!.addingTimeInterval(-1) } ?? false
                try await Task.sleep(for: .milliseconds(1_100))
                try await witness.recordIfWritten(tenant, in: storage.tenants)
                let confirmed = try #require(try await witness.head(of: tenant))
                #expect(confirmed.seq == 3)
                #expect(confirmedAlready ? confirmed == recorded : confirmed.recordedAt > recorded.recordedAt)
                try await Task.sleep(for: .milliseconds(20))
                try await witness.recordIfWritten(tenant, in: storage.tenants)
                let again = try #require(try await witness.head(of: tenant))
                if backend == .sqlite {
                    #expect(try storage.tenants.lastWritten(tenant) != nil)
                    #expect(again == confirmed, "an unwritten file is left alone")
                } else {
                    #expect(try storage.tenants.lastWritten(tenant) == nil)
                    #expect(again.seq == 3 && again.recordedAt > confirmed.recordedAt, "a schema has no write time: always read")
                }

                try await trail.record(AuditTrailTests.read(4), in: scope)
                try await witness.recordIfWritten(tenant, in: storage.tenants)
                #expect(try await witness.head(of: tenant)?.seq == 4)
            }
        }
    }

    @Test("retention after witnessing keeps the witnessed event; a witnessed event behind the retention anchor is reported",
          arguments: TestBackend.allCases)
    func retention(_ backend: TestBackend) async throws {
        try await Self.withWitness(backend) { trail, scope, witness in
            for n in 1...4 { try await trail.record(AuditTrailTests.read(n), in: scope) }
            #expect(try await witness.record(scope)?.seq == 4)
            for n in 5...6 { try await trail.record(AuditTrailTests.read(n), in: scope) }
            let retention = AuditRetention(trail: trail)

            // As the retention job does it: witness, then remove all but the newest event.
            #expect(try await witness.record(scope)?.seq == 6)
            #expect(try await retention.apply(in: scope, before: Date().addingTimeInterval(60)) == 5)
            #expect(try await AuditStore.verify(scope, witness: witness).firstBreak == nil)
            #expect(try await witness.record(scope)?.seq == 7, "the retention's own event is the new head")

            // Removing the witnessed event by retention without witnessing first is reported.
            for n in 8...9 { try await trail.record(AuditTrailTests.read(n), in: scope) }
            #expect(try await retention.apply(in: scope, before: Date().addingTimeInterval(60)) == 3)
            let verified = try await AuditStore.verify(scope, witness: witness)
            #expect(verified.firstBreak?.seq == 7)
            #expect(verified.firstBreak?.problem.contains("behind the retention anchor") == true)
        }
    }
}
