import SQLKit
import WardStorage

/// Which audit events concern which patient: the question behind a patient's accounting of
/// disclosures. The trail grows in sequence order but one patient's events are scattered
/// through it, so an index on the trail put every event at a random place, and that random
/// page was most of what each audited read's commit wrote (~30 of ~35 pages per group commit).
///
/// Instead the events are indexed in batches, inside the appender's transaction, once
/// `AuditTrail.patientIndexBatch` events have gathered past the mark
/// (`audit_patient_indexed.through_seq`). The key starts with a bucket of 8,192 sequence
/// numbers, so a batch lands in the newest bucket's hundred-odd pages however long the trail
/// is. A patient's events are read from the index bucket by bucket, and past the mark from the
/// trail's tail directly; one statement, one snapshot, so nothing falls between the two.
enum AuditPatientIndex {
    /// Sequence numbers per bucket, as a shift. Part of the stored format (migration 204).
    static let bucketShift = 13

    /// Indexes the patient events after `indexed` up to `last` and moves the mark there. Runs
    /// in the transaction that appended `last`, under the appenders' ordering.
    static func catchUp(from indexed: Int64, through last: Int64, in database: any SQLDatabase, scope: TenantScope) async throws {
        let events = try scope.table("audit_events"), index = try scope.table("audit_patient_events")
        let mark = try scope.table("audit_patient_indexed")
        try await database.raw("""
            INSERT INTO \(index) (bucket, patient_id, seq)
            SELECT seq >> \(unsafeRaw: String(bucketShift)), patient_id, seq FROM \(events)
            WHERE seq > \(bind: indexed) AND seq <= \(bind: last) AND patient_id IS NOT NULL ORDER BY 1, 2, 3
            """).run()
        try await database.raw("""
            INSERT INTO \(mark) (id, through_seq) VALUES (1, \(bind: last))
            ON CONFLICT (id) DO UPDATE SET through_seq = excluded.through_seq
            """).run()
    }

    /// A condition on `audit_events` selecting `patientID`'s events, newest bucket first, the
    /// buckets limited to those that can hold a sequence number in `after..<before`.
    static func condition(patientID: String, after: Int64?, before: Int64?, in scope: TenantScope) throws -> SQLQueryString {
        let events = try scope.table("audit_events"), index = try scope.table("audit_patient_events")
        let mark = try scope.table("audit_patient_indexed")
        let top = before.map { ($0 - 1) >> Int64(bucketShift) } ?? Int64.max
        let bottom = after.map { ($0 + 1) >> Int64(bucketShift) } ?? 0
        let shift = String(bucketShift)
        return """
            "seq" IN (
                WITH RECURSIVE buckets (b) AS (
                    SELECT CASE WHEN through_seq >> \(unsafeRaw: shift) < \(bind: top) THEN through_seq >> \(unsafeRaw: shift) ELSE \(bind: top) END
                    FROM \(mark) WHERE id = 1
                    UNION ALL SELECT b - 1 FROM buckets WHERE b > \(bind: bottom)
                )
                SELECT i.seq FROM buckets JOIN \(index) i ON i.bucket = buckets.b AND i.patient_id = \(bind: patientID)
                UNION ALL
                SELECT seq FROM \(events) WHERE seq > (SELECT through_seq FROM \(mark) WHERE id = 1) AND patient_id = \(bind: patientID)
            ) AND "patient_id" = \(bind: patientID)
            """
    }

    /// The first patient event at or before the mark that the index lacks, if any: the trail's
    /// chain cannot show a missing index row, and one would hide an access from the patient's history.
    static func firstUnindexed(in scope: TenantScope) async throws -> Int64? {
        let events = try scope.table("audit_events"), index = try scope.table("audit_patient_events")
        let mark = try scope.table("audit_patient_indexed")
        return try await scope.read { database in
            try await database.raw("""
                SELECT MIN(e.seq) AS seq FROM \(events) e
                WHERE e.patient_id IS NOT NULL AND e.seq <= (SELECT through_seq FROM \(mark) WHERE id = 1)
                AND NOT EXISTS (SELECT 1 FROM \(index) i
                                WHERE i.bucket = e.seq >> \(unsafeRaw: String(bucketShift)) AND i.patient_id = e.patient_id AND i.seq = e.seq)
                """).first()?.decode(column: "seq", as: Int64?.self)
        }
    }
}
