import Foundation
import SQLKit
import Testing
import WardCore
import WardStorage
import WardTestSupport
@testable import WardAudit

@Suite("Audit retention")
struct AuditRetentionTests {
    @Test("retention removes only events older than the cutoff, never the newest, and the chain still verifies from its anchor",
          arguments: TestBackend.allCases)
    func retention(_ backend: TestBackend) async throws {
        try await AuditTrailTests.withTrail(backend) { trail, scope, _ in
            for n in 1...5 { try await trail.record(AuditTrailTests.read(n), in: scope) }
            let retention = AuditRetention(trail: trail)
            #expect(try await retention.apply(in: scope, before: Date().addingTimeInterval(-3600)) == 0)

            let removed = try await retention.apply(in: scope, before: Date().addingTimeInterval(60))

            #expect(removed == 4)
            let events = try await AuditStore.events(in: scope, filter: .init(), before: nil, limit: 10, ascending: true)
            #expect(events.map(\.seq) == [5, 6])
            #expect(events.last?.action == "audit_retention")
            #expect(events.last?.details["through_seq"] == "4")
            let verified = try await AuditStore.verify(scope)
            #expect(verified.firstBreak == nil)
            #expect(verified.checked == 2)
            #expect(try await AuditRetention.anchor(in: scope)?.seq == 4)

            // Events after the anchor stay append-only, and tampering still shows.
            let table = try scope.table("audit_events")
            await #expect(throws: (any Error).self) {
                try await scope.transaction { database in try await database.delete(from: table).where("seq", .equal, 5).run() }
            }
            try await trail.record(AuditTrailTests.read(7), in: scope)

            // The anchor itself only moves forward, to an event still there with its hash, and
            // stays: rewinding it, forging its hash, pointing it at the newest event or removing
            // it is refused, and the chain verifies as before.
            let anchor = try scope.table("audit_retention")
            let newest = try #require(try await AuditStore.events(in: scope, filter: .init(), before: nil, limit: 1).first)
            let kept = try #require(try await AuditStore.events(in: scope, filter: .init(), before: nil, limit: 1, ascending: true).first)
            let forgeries: [@Sendable (any SQLDatabase) async throws -> Void] = [
                { try await $0.update(anchor).set("through_hash", to: String(repeating: "0", count: 64)).run() },
                { try await $0.update(anchor).set("through_seq", to: 2).run() },
                { try await $0.update(anchor).set("through_seq", to: kept.seq).set("through_hash", to: String(repeating: "1", count: 64)).run() },
                { try await $0.update(anchor).set("through_seq", to: newest.seq).set("through_hash", to: newest.hash).run() },
                { try await $0.delete(from: anchor).run() },
            ]
            for forgery in forgeries {
                await #expect(throws: (any Error).self) { try await scope.transaction(forgery) }
            }
            #expect(try await AuditRetention.anchor(in: scope)?.seq == 4)
            #expect(try await AuditStore.verify(scope).firstBreak == nil)

            // A later retention moves it forward as before.
            #expect(try await retention.apply(in: scope, before: Date().addingTimeInterval(60)) == 2)
            #expect(try await AuditRetention.anchor(in: scope)?.seq == 6)
            #expect(try await AuditStore.verify(scope).firstBreak == nil)
        }
    }

    @Test("retention removes the patient index's rows with the events, and what is kept is still found by patient", arguments: TestBackend.allCases)
    func retentionOfIndex(_ backend: TestBackend) async throws {
        try await AuditTrailTests.withTrail(backend) { trail, scope, _ in
            try await AuditTrailTests.fill(40, in: scope, patientIndexBatch: 10)
            let index = try scope.table("audit_patient_events")
            let indexed = { @Sendable in
                try await scope.read { database in
                    try await database.raw("SELECT seq FROM \(index) ORDER BY seq").all().map { try $0.decode(column: "seq", as: Int64.self) }
                }
            }
            #expect(try await indexed().count == 34)

            #expect(try await AuditRetention(trail: trail).apply(in: scope, before: Date().addingTimeInterval(60)) == 39)

            // Event 40 (n = 39, patient p9) is kept and indexed; the retention's own event follows.
            #expect(try await indexed() == [40])
            #expect(try await AuditTrailTests.pages(of: "p9", in: scope, ascending: false) == [40])
            #expect(try await AuditStore.verify(scope) == .init(checked: 2, firstBreak: nil))
        }
    }
}
