import Foundation
package import Prometheus
package import SQLKit
import Synchronization
import WardCore
package import WardStorage

/// Each tenant's append-only, hash-chained audit trail. Mutations append their event inside
/// their own transaction. Reads and searches, one event per request, are made durable in the
/// node's journal (`AuditJournal`), one group commit for the reads of every tenant, and moved
/// into their tenant's trail in batches; a busy tenant's reads, and other events, commit through
/// the tenant's own group-commit writer. Either way the caller continues only once its event
/// is durable.
package final class AuditTrail: Sendable {
    private let writers = Mutex<[String: TenantAuditWriter]>([:])
    let metrics: AuditMetrics

    /// Whether reads and searches are audited (always, but for benchmarks measuring the cost).
    package let auditsReads: Bool
    /// How many events gather past the patient index's mark before an append indexes them
    /// (`AuditPatientIndex`); until then a patient's newest events are read from the trail's tail.
    let patientIndexBatch: Int64

    /// Where group-commit writers record the heads they commit, if anywhere.
    let witness: AuditWitness?
    /// How often a writer records its tenant's head at most.
    let witnessInterval: Duration
    /// Where reads are made durable before they reach their trail; without one (tests of the
    /// trail alone) they go through the tenant's writer.
    let journal: AuditJournal?
    /// How many of a tenant's reads may await their events at once before the next ones go to
    /// its own trail rather than the journal (`WARD_AUDIT_DIRECT_READS`).
    let directReads: Int
    /// Each tenant's reads awaiting their audit events.
    private let readsInFlight = Mutex<[String: Int]>([:])

    package init(
        registry: PrometheusCollectorRegistry, auditsReads: Bool = true, patientIndexBatch: Int = 1024,
        witness: AuditWitness? = nil, witnessInterval: Duration = .seconds(10), journal: AuditJournal? = nil, directReads: Int = 8
    ) {
        self.directReads = directReads
        self.metrics = AuditMetrics(registry: registry)
        self.auditsReads = auditsReads
        self.patientIndexBatch = Int64(max(patientIndexBatch, 1))
        self.witness = witness
        self.witnessInterval = witnessInterval
        self.journal = journal
    }

    /// Records a read or search of patient data. A tenant with many reads awaiting their
    /// events at once (more than `directReads`) commits them in its own trail's group commit,
    /// which then carries that many events: the one write per event there is. Otherwise the read
    /// goes to the node's journal, whose commit the reads of every tenant share, to be moved
    /// into the trail in a batch.
    package func recordRead(_ record: AuditRecord, in scope: TenantScope) async throws {
        guard auditsReads else { return }
        guard let journal, journal.shares(scope) else { return try await self.record(record, in: scope) }
        let tenant = scope.tenant.id
        let concurrent = readsInFlight.withLock { inFlight -> Int in
            inFlight[tenant, default: 0] += 1
            return inFlight[tenant]!
        }
        defer {
            readsInFlight.withLock { inFlight in
                let left = inFlight[tenant, default: 1] - 1
                inFlight[tenant] = left > 0 ? left : nil
            }
        }
        if concurrent > directReads {
            try await self.record(record, in: scope)
        } else {
            try await journal.record(record, in: scope, metrics: metrics)
        }
    }

    /// Appends `record` inside the caller's open transaction on `scope`'s database, after the
    /// tenant's journaled reads: a read answered before the change comes before it in the trail.
    @discardableResult
    package func append(_ record: AuditRecord, in database: any SQLDatabase, scope: TenantScope) async throws -> AuditEvent {
        // The transaction may run on the shard the tenant just moved to (see `TenantScope`).
        let scope = scope.current
        var journaled: [StampedRecord] = []
        if let journal, journal.mayHold(scope.tenant.id), journal.shares(scope) {
            if scope.database.dialect == .postgres, let schema = scope.schema {
                // The trail's lock before the journal's rows, as a move takes them.
                _ = try await database.reusedRows(SQLQueryString("SELECT pg_advisory_xact_lock(hashtext(\(bind: Self.lockKey(schema))))"))
            }
            journaled = try await journal.takeForAppend(in: database, scope: scope)
        }
        let events = try await Self.insertReturningTail(journaled + [StampedRecord(record, at: Date())], in: database, scope: scope,
                                                        patientIndexBatch: patientIndexBatch).events
        metrics.counted([record])
        return events[events.count - 1]
    }

    /// Records `record` through the tenant's group-commit writer; returns once it is committed.
    package func record(_ record: AuditRecord, in scope: TenantScope) async throws {
        try await writer(for: scope).submit(record, in: scope)
    }

    func writer(for scope: TenantScope) -> TenantAuditWriter {
        writers.withLock { writers in
            if let writer = writers[scope.tenant.slug] { return writer }
            let writer = TenantAuditWriter(metrics: metrics, patientIndexBatch: patientIndexBatch, witness: witness, witnessInterval: witnessInterval)
            writers[scope.tenant.slug] = writer
            return writer
        }
    }

    /// Inserts records after the tenant's current tail, chaining their hashes, and indexes
    /// the patient events once `patientIndexBatch` have gathered; returns the events and the
    /// trail's tail after them. The caller's transaction must be open; on PostgreSQL an
    /// advisory lock serialises appenders per tenant.
    static func insertReturningTail(
        _ records: [StampedRecord], in database: any SQLDatabase, scope: TenantScope, patientIndexBatch: Int64
    ) async throws -> (events: [AuditEvent], tail: Tail) {
        let table = try scope.tableName("audit_events"), mark = try scope.tableName("audit_patient_indexed")
        if scope.database.dialect == .postgres, let schema = scope.schema {
            _ = try await database.reusedRows(SQLQueryString("SELECT pg_advisory_xact_lock(hashtext(\(bind: lockKey(schema))))"))
        }
        let row = try await database.reusedRows(SQLQueryString("""
            SELECT (SELECT "seq" FROM \(unsafeRaw: table) ORDER BY "seq" DESC LIMIT 1) AS "seq",
                   (SELECT "hash" FROM \(unsafeRaw: table) ORDER BY "seq" DESC LIMIT 1) AS "hash",
                   (SELECT "through_seq" FROM \(unsafeRaw: mark) WHERE "id" = 1) AS "indexed"
            """)).first
        var tail = Tail(
            seq: try row?.decode(column: "seq", as: Int64?.self) ?? 0,
            hash: try row?.decode(column: "hash", as: String?.self) ?? AuditEvent.genesisHash,
            indexed: try row?.decode(column: "indexed", as: Int64?.self) ?? 0
        )
        let events = chain(records, after: tail)
        try await write(events, to: table, in: database, dialect: scope.database.dialect)
        let last = events.last!
        if last.seq - tail.indexed >= patientIndexBatch {
            try await AuditPatientIndex.catchUp(from: tail.indexed, through: last.seq, in: database, scope: scope)
            tail.indexed = last.seq
        }
        tail.seq = last.seq
        tail.hash = last.hash
        return (events, tail)
    }

    /// The end of a tenant's trail as one node last wrote it: the newest event's number and hash,
    /// and the patient index's mark.
    struct Tail: Sendable {
        var seq: Int64
        var hash: String
        var indexed: Int64
    }

    /// The advisory lock's key for a tenant's trail on PostgreSQL.
    static func lockKey(_ schema: String) -> String {
        "ward.audit." + schema
    }

    /// `records` as the events that follow `tail`: numbered and hash-chained.
    private static func chain(_ records: [StampedRecord], after tail: Tail) -> [AuditEvent] {
        var seq = tail.seq, previous = tail.hash
        var events: [AuditEvent] = []
        events.reserveCapacity(records.count)
        for stamped in records {
            seq += 1
            var event = AuditEvent(stamped, seq: seq, prevHash: previous, hash: "")
            event.hash = event.computedHash()
            previous = event.hash
            events.append(event)
        }
        return events
    }

    /// On PostgreSQL, appends `records` after `tail` in one statement that commits on its own:
    /// one round trip where `insertReturningTail`'s transaction takes six, and the group
    /// commit's cycle is what bounds audited reads there. Nil, with nothing written, when `tail`
    /// is no longer the trail's end (another node or a mutation appended since): the statement
    /// checks that the event numbered `tail.seq` has `tail.hash` and is the newest (by `max`,
    /// which reads the key's last entry; a generic plan of `NOT EXISTS (… seq > $3)` scanned
    /// the table). It takes the same advisory lock as `insertReturningTail`, so an appender that
    /// read the tail under the lock never collides with it. The trail's unique keys refuse the
    /// rest, and that too is nil with nothing written: an event another appender committed
    /// meanwhile (the key on `seq`), or a journaled event another appender moved already (the
    /// key on `id`; checking the ids first parsed the batch's JSON twice, a fifth of a move).
    static func appendFollowing(
        _ tail: Tail, _ records: [StampedRecord], scope: TenantScope
    ) async throws -> (events: [AuditEvent], tail: Tail)? {
        guard scope.database.dialect == .postgres, let schema = scope.schema else { return nil }
        let table = try scope.tableName("audit_events")
        let events = chain(records, after: tail)
        let text = """
            WITH "lock" AS (SELECT pg_advisory_xact_lock(hashtext($2))),
            "predecessor" AS (
                SELECT 1 FROM \(table) WHERE "seq" = $3 AND "hash" = $4
                AND "seq" = (SELECT max("seq") FROM \(table))
            ),
            "appended" AS (
                INSERT INTO \(table) (\(AuditStore.columnList)) SELECT \(AuditStore.columnList)
                FROM "lock", "predecessor", json_to_recordset($1::json) AS rows (\(AuditStore.recordsetColumns))
                RETURNING 1
            )
            SELECT count(*) AS "appended" FROM "appended"
            """
        let binds: [any Encodable & Sendable] = [postgresRows(events), lockKey(schema), tail.seq, tail.hash]
        let appended: Int64?
        do {
            appended = try await scope.autocommit { database in
                try await database.reusedRows(SQLText.Statement(text, binds: binds)).first?.decode(column: "appended", as: Int64.self)
            }
        } catch where isConstraintConflict(error) {
            return nil
        }
        guard appended == Int64(events.count) else { return nil }
        return (events, Tail(seq: events.last!.seq, hash: events.last!.hash, indexed: tail.indexed))
    }

    /// Inserts `events`: on SQLite one prepared single-row statement per event (it stays in
    /// the connection's statement cache); on PostgreSQL all rows in one statement, one round
    /// trip, whose text is the same whatever the batch's size, so it stays prepared too: the
    /// rows travel as one JSON array. (Bound as ~19 parameters a row, PostgreSQL parsed and
    /// planned a 600-parameter statement for every batch, and Ward encoded each value apart.)
    private static func write(_ events: [AuditEvent], to table: String, in database: any SQLDatabase, dialect: Dialect) async throws {
        switch dialect {
        case .sqlite:
            let text = "INSERT INTO " + table + " (" + AuditStore.columnList + ") VALUES ("
                + SQLText.placeholders(1...AuditStore.columns.count, dialect: .sqlite) + ")"
            for event in events {
                try await database.execute(sql: SQLText.Statement(text, binds: AuditStore.values(of: event))) { _ in }
            }
        case .postgres:
            let text = "INSERT INTO " + table + " (" + AuditStore.columnList + ") SELECT " + AuditStore.columnList
                + " FROM json_to_recordset($1::json) AS rows (" + AuditStore.recordsetColumns + ")"
            try await database.execute(sql: SQLText.Reused(SQLText.Statement(text, binds: [postgresRows(events)]))) { _ in }
        }
    }

    /// `events` as one JSON array of rows, for `json_to_recordset`.
    private static func postgresRows(_ events: [AuditEvent]) -> String {
        var rows = "["
        rows.reserveCapacity(events.count * 700)
        for (index, event) in events.enumerated() {
            if index > 0 { rows.append(",") }
            AuditStore.appendJSONRow(event, to: &rows)
        }
        rows.append("]")
        return rows
    }
}

/// One tenant's group-commit writer for the events recorded outside a transaction that are not
/// journaled (`AuditTrail.record`). Each batch commits through the scope its newest event came
/// with, so a tenant database reopened meanwhile (an idle file closed, a failed provisioning
/// redone) is written through its current handle.
final class TenantAuditWriter: Sendable {
    private typealias Entry = (record: StampedRecord, scope: TenantScope)
    private struct State {
        /// The trail's end as this writer last committed it, on PostgreSQL (`appendFollowing`).
        var tail: AuditTrail.Tail?
        /// When this writer last handed a head to the witness.
        var witnessedAt: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    private let commits = GroupCommit<Entry>()
    private let metrics: AuditMetrics
    private let patientIndexBatch: Int64
    private let witness: AuditWitness?
    private let witnessInterval: Duration

    init(metrics: AuditMetrics, patientIndexBatch: Int64, witness: AuditWitness?, witnessInterval: Duration) {
        self.metrics = metrics
        self.patientIndexBatch = patientIndexBatch
        self.witness = witness
        self.witnessInterval = witnessInterval
    }

    /// Returns once `record` is committed (see `GroupCommit.submit`).
    func submit(_ record: AuditRecord, in scope: TenantScope) async throws {
        try await commits.submit((StampedRecord(record, at: Date()), scope)) { [self] batch in
            let scope = batch.last!.scope
            let started = ContinuousClock.now, startedAt = Date()
            let (_, tail) = try await append(batch.map(\.record), in: scope)
            if scope.database.dialect == .postgres { state.withLock { $0.tail = tail } }
            metrics.committed(batch.map(\.record.record), duration: ContinuousClock.now - started)
            witnessIfDue(tail, of: scope.tenant.id, readAt: startedAt)
        }
    }

    /// Appends journaled events after the tail this writer last committed or moved, in one
    /// statement, unless any of them is in the trail already; nil, with nothing written, when it
    /// knows no tail, the batch would reach the patient index's mark, or that tail is no longer
    /// the end (the caller then appends the safe way and hands the tail over, `remember`).
    func appendJournaled(_ records: [StampedRecord], in scope: TenantScope) async -> (events: [AuditEvent], tail: AuditTrail.Tail)? {
        guard scope.database.dialect == .postgres,
              let known = state.withLock({ state in defer { state.tail = nil }; return state.tail }),
              known.seq + Int64(records.count) - known.indexed < patientIndexBatch,
              let appended = try? await AuditTrail.appendFollowing(known, records, scope: scope)
        else { return nil }
        remember(appended.tail)
        return appended
    }

    /// The trail's end as an append just committed it, for the next one-statement append.
    func remember(_ tail: AuditTrail.Tail) {
        state.withLock { $0.tail = tail }
    }

    /// Hands the head just committed to the witness, at most once per `witnessInterval`, without
    /// holding up the next batch; the witness job records it anyway if this fails. The head is
    /// stamped with the batch's start, before which everything in the trail is in it.
    func witnessIfDue(_ tail: AuditTrail.Tail, of tenantID: String, readAt: Date) {
        guard let witness else { return }
        let now = ContinuousClock.now
        let due = state.withLock { state -> Bool in
            if let last = state.witnessedAt, now - last < witnessInterval { return false }
            state.witnessedAt = now
            return true
        }
        guard due else { return }
        Task { try? await witness.record(seq: tail.seq, hash: tail.hash, of: tenantID, readAt: readAt) }
    }

    /// Appends a batch: after the tail this writer last committed, in one statement, when it
    /// knows one and the batch leaves the patient index's batching alone; otherwise, or when
    /// that tail is no longer the end, in a transaction that reads the tail under the lock.
    private func append(_ records: [StampedRecord], in scope: TenantScope) async throws -> (events: [AuditEvent], tail: AuditTrail.Tail) {
        // Taken, not read: if this batch fails, the next one reads the tail again.
        if let known = state.withLock({ state in defer { state.tail = nil }; return state.tail }),
           known.seq + Int64(records.count) - known.indexed < patientIndexBatch {
            // A failure here is retried the safe way below: the statement either committed
            // whole or not at all, and a lost answer at worst records the events twice.
            if let appended = try? await AuditTrail.appendFollowing(known, records, scope: scope) { return appended }
        }
        return try await scope.transaction { [patientIndexBatch] database in
            try await AuditTrail.insertReturningTail(records, in: database, scope: scope, patientIndexBatch: patientIndexBatch)
        }
    }
}

/// A record with the identity and time it was recorded at, its fields bounded: the trail adds
/// the sequence number and hashes when it appends it, which for a journaled read is later.
struct StampedRecord: Sendable {
    var record: AuditRecord
    var id: String
    var occurredAt: String

    init(_ record: AuditRecord, at date: Date) {
        self.init(record: record.bounded, id: UUIDv7.id(at: date), occurredAt: Timestamp.text(date))
    }

    init(record: AuditRecord, id: String, occurredAt: String) {
        self.record = record
        self.id = id
        self.occurredAt = occurredAt
    }
}

extension AuditEvent {
    /// `stamped` as the trail's event numbered `seq`.
    init(_ stamped: StampedRecord, seq: Int64, prevHash: String, hash: String) {
        let record = stamped.record
        self.init(
            id: stamped.id, seq: seq, occurredAt: stamped.occurredAt, actorType: record.actorType,
            actorID: record.actorID, actorName: record.actorName, actorRoles: record.actorRoles, action: record.action,
            resourceType: record.resourceType, resourceID: record.resourceID, patientID: record.patientID, outcome: record.outcome,
            reason: record.reason, clientAddress: record.clientAddress, userAgent: record.userAgent, requestID: record.requestID,
            details: record.details, prevHash: prevHash, hash: hash
        )
    }
}

/// The audit trail's metrics.
final class AuditMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let batchSize: ValueHistogram
    private let commitDuration: DurationHistogram
    private let counters = MetricCache<CounterKey, Counter>()

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        batchSize = registry.makeValueHistogram(
            descriptor: MetricNameDescriptor(metricName: "audit_batch", unitName: "size", helpText: "Audit events per group commit"),
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
        )
        commitDuration = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(metricName: "audit_commit_duration", unitName: "seconds", helpText: "Duration of audit group commits"),
            buckets: [.microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                      .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)]
        )
    }

    func counted(_ records: [AuditRecord]) {
        for record in records { counter(action: record.action, outcome: record.outcome.rawValue).increment() }
    }

    private func counter(action: String, outcome: String) -> Counter {
        counters.value(for: CounterKey(action: action, outcome: outcome)) {
            registry.makeCounter(
                descriptor: MetricNameDescriptor(metricName: "audit_events", unitName: "total", helpText: "Audit events recorded by action and outcome"),
                labels: [("action", action), ("outcome", outcome)]
            )
        }
    }

    private struct CounterKey: Hashable, Sendable {
        let action: String
        let outcome: String
    }

    /// A group commit of `records` (to a trail, or to the journal) that took `duration`.
    func committed(_ records: [AuditRecord], duration: Duration) {
        batchSize.record(Double(records.count))
        commitDuration.record(duration)
        counted(records)
    }
}
