package import Foundation
import SQLKit
import WardCore
package import WardStorage

/// Removes audit events older than the retention period, oldest first. The newest event is
/// never removed, the hash of the last removed one is kept as the chain's new anchor, and the
/// removal itself is recorded as an event, so `ward audit verify` still proves the rest intact.
package struct AuditRetention: Sendable {
    let trail: AuditTrail

    package init(trail: AuditTrail) {
        self.trail = trail
    }

    /// Where the chain starts after earlier removals: the last removed event and its hash.
    package static func anchor(in scope: TenantScope) async throws -> (seq: Int64, hash: String)? {
        let table = try scope.table("audit_retention")
        return try await scope.read { database in
            guard let row = try await database.select().columns("through_seq", "through_hash").from(table).where("id", .equal, 1).first() else { return nil }
            return (try row.decode(column: "through_seq", as: Int64.self), try row.decode(column: "through_hash", as: String.self))
        }
    }

    /// Removes the events that occurred before `cutoff`; returns how many went.
    @discardableResult
    package func apply(in scope: TenantScope, before cutoff: Date) async throws -> Int {
        let events = try scope.table("audit_events"), anchor = try scope.table("audit_retention")
        let index = try scope.table("audit_patient_events")
        let cutoffText = Timestamp.text(cutoff)
        let trail = self.trail
        return try await scope.transaction { database in
            if scope.database.dialect == .postgres, let schema = scope.schema {
                try await database.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: "ward.audit." + schema)))").run()
            }
            let bounds = try await database.raw("""
                SELECT MAX(seq) AS through FROM \(events)
                WHERE occurred_at < \(bind: cutoffText) AND seq < (SELECT MAX(seq) FROM \(events))
                """).first()
            guard let through = try bounds?.decode(column: "through", as: Int64?.self) else { return 0 }
            let hash = try await database.select().column("hash").from(events).where("seq", .equal, through).first()?
                .decode(column: "hash", as: String.self) ?? ""
            try await database.raw("""
                INSERT INTO \(anchor) (id, through_seq, through_hash, applied_at) VALUES (1, \(bind: through), \(bind: hash), \(bind: Timestamp.now()))
                ON CONFLICT (id) DO UPDATE SET through_seq = excluded.through_seq, through_hash = excluded.through_hash, applied_at = excluded.applied_at
                """).run()
            let removed = try await database.raw("DELETE FROM \(events) WHERE seq <= \(bind: through) RETURNING seq").all().count
            try await database.raw("""
                DELETE FROM \(index) WHERE bucket <= \(bind: through >> Int64(AuditPatientIndex.bucketShift)) AND seq <= \(bind: through)
                """).run()
            try await trail.append(AuditActor.system.record("audit_retention", resourceType: "audit_trail", details: [
                "through_seq": String(through), "removed": String(removed), "cutoff": cutoffText,
            ]), in: database, scope: scope)
            return removed
        }
    }
}
