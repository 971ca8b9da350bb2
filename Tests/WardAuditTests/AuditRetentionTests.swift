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
            let anchor = try scope.table("audit_retention")
            try await scope.transaction { database in try await database.update(anchor).set("through_hash", to: String(repeating: "0", count: 64)).run() }
            #expect(try await AuditStore.verify(scope).firstBreak?.seq == 5)
        }
    }
}
