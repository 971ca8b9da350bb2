import Foundation
package import Prometheus
package import SQLKit
import Synchronization
import WardCore
package import WardStorage

/// Each tenant's append-only, hash-chained audit trail. Mutations append their event inside
/// their own transaction; reads hand theirs to a per-tenant writer that commits whatever has
/// queued in one transaction (group commit), so concurrent reads share a commit. Either way the
/// caller continues only once its event is committed.
package final class AuditTrail: Sendable {
    private let writers = Mutex<[String: TenantAuditWriter]>([:])
    let metrics: AuditMetrics

    /// Whether reads and searches are audited (always, but for benchmarks measuring the cost).
    package let auditsReads: Bool
    /// How many events gather past the patient index's mark before an append indexes them
    /// (`AuditPatientIndex`); until then a patient's newest events are read from the trail's tail.
    let patientIndexBatch: Int64

    package init(registry: PrometheusCollectorRegistry, auditsReads: Bool = true, patientIndexBatch: Int = 1024) {
        self.metrics = AuditMetrics(registry: registry)
        self.auditsReads = auditsReads
        self.patientIndexBatch = Int64(max(patientIndexBatch, 1))
    }

    /// Records a read or search of patient data through the group-commit writer.
    package func recordRead(_ record: AuditRecord, in scope: TenantScope) async throws {
        guard auditsReads else { return }
        try await self.record(record, in: scope)
    }

    /// Appends `record` inside the caller's open transaction on `scope`'s database.
    @discardableResult
    package func append(_ record: AuditRecord, in database: any SQLDatabase, scope: TenantScope) async throws -> AuditEvent {
        let events = try await Self.insert([record], in: database, scope: scope, patientIndexBatch: patientIndexBatch)
        metrics.counted(events)
        return events[0]
    }

    /// Records `record` through the tenant's group-commit writer; returns once it is committed.
    package func record(_ record: AuditRecord, in scope: TenantScope) async throws {
        let writer = writers.withLock { writers in
            if let writer = writers[scope.tenant.slug] { return writer }
            let writer = TenantAuditWriter(metrics: metrics, patientIndexBatch: patientIndexBatch)
            writers[scope.tenant.slug] = writer
            return writer
        }
        try await writer.submit(record, in: scope)
    }

    /// Inserts records after the tenant's current tail, chaining their hashes, and indexes
    /// the patient events once `patientIndexBatch` have gathered. The caller's transaction must
    /// be open; on PostgreSQL an advisory lock serialises appenders per tenant.
    static func insert(_ records: [AuditRecord], in database: any SQLDatabase, scope: TenantScope, patientIndexBatch: Int64) async throws -> [AuditEvent] {
        let table = try scope.tableName("audit_events"), mark = try scope.tableName("audit_patient_indexed")
        if scope.database.dialect == .postgres, let schema = scope.schema {
            _ = try await database.reusedRows(SQLQueryString("SELECT pg_advisory_xact_lock(hashtext(\(bind: "ward.audit." + schema)))"))
        }
        let tail = try await database.reusedRows(SQLQueryString("""
            SELECT (SELECT "seq" FROM \(unsafeRaw: table) ORDER BY "seq" DESC LIMIT 1) AS "seq",
                   (SELECT "hash" FROM \(unsafeRaw: table) ORDER BY "seq" DESC LIMIT 1) AS "hash",
                   (SELECT "through_seq" FROM \(unsafeRaw: mark) WHERE "id" = 1) AS "indexed"
            """)).first
        var seq = try tail?.decode(column: "seq", as: Int64?.self) ?? 0
        var previous = try tail?.decode(column: "hash", as: String?.self) ?? AuditEvent.genesisHash
        let indexed = try tail?.decode(column: "indexed", as: Int64?.self) ?? 0
        let now = Date(), occurredAt = Timestamp.text(now)
        var events: [AuditEvent] = []
        events.reserveCapacity(records.count)
        for record in records {
            seq += 1
            var event = AuditEvent(
                id: UUIDv7.id(at: now), seq: seq, occurredAt: occurredAt, actorType: record.actorType,
                actorID: record.actorID, actorName: record.actorName, actorRoles: record.actorRoles, action: record.action,
                resourceType: record.resourceType, resourceID: record.resourceID, patientID: record.patientID, outcome: record.outcome,
                reason: record.reason, clientAddress: record.clientAddress, userAgent: record.userAgent, requestID: record.requestID,
                details: record.details, prevHash: previous, hash: ""
            )
            event.hash = event.computedHash()
            previous = event.hash
            events.append(event)
        }
        try await write(events, to: table, in: database, dialect: scope.database.dialect)
        if seq - indexed >= patientIndexBatch {
            try await AuditPatientIndex.catchUp(from: indexed, through: seq, in: database, scope: scope)
        }
        return events
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
            var rows = "["
            rows.reserveCapacity(events.count * 700)
            for (index, event) in events.enumerated() {
                if index > 0 { rows.append(",") }
                AuditStore.appendJSONRow(event, to: &rows)
            }
            rows.append("]")
            let text = "INSERT INTO " + table + " (" + AuditStore.columnList + ") SELECT " + AuditStore.columnList
                + " FROM json_to_recordset($1::json) AS rows (" + AuditStore.recordsetColumns + ")"
            try await database.execute(sql: SQLText.Reused(SQLText.Statement(text, binds: [rows]))) { _ in }
        }
    }
}

/// One tenant's group-commit writer: events queue while a commit is in flight and the next
/// commit takes them all. Each batch commits through the scope its newest event came with, so a
/// tenant database reopened meanwhile (an idle file closed, a failed provisioning redone) is
/// written through its current handle.
final class TenantAuditWriter: Sendable {
    private typealias Entry = (record: AuditRecord, scope: TenantScope, done: CheckedContinuation<Void, any Error>)
    private struct State {
        var pending: [Entry] = []
        var draining = false
    }

    /// The most events one transaction takes; more wait for the next.
    static let maximumBatch = 512
    /// How long the writer gathers events before a commit while reads arrive concurrently.
    static let commitDelay = Duration.microseconds(500)

    private let state = Mutex(State())
    private let metrics: AuditMetrics
    private let patientIndexBatch: Int64

    init(metrics: AuditMetrics, patientIndexBatch: Int64) {
        self.metrics = metrics
        self.patientIndexBatch = patientIndexBatch
    }

    func submit(_ record: AuditRecord, in scope: TenantScope) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            let startDrain = state.withLock { state -> Bool in
                state.pending.append((record, scope, done))
                if state.draining { return false }
                state.draining = true
                return true
            }
            if startDrain { Task { await self.drain() } }
        }
    }

    private func drain() async {
        var previousBatch = 0
        while true {
            // Like PostgreSQL's commit_delay: when reads arrive together, a short wait lets the
            // next commit take more of them. Fewer commits mean fewer flushes, fewer copies of
            // the trail's last pages in the log, and fewer readers finding their page cache
            // invalidated by a commit. A lone read (the last batch held one) does not wait.
            if previousBatch > 1 { try? await Task.sleep(for: Self.commitDelay) }
            let batch = state.withLock { state -> [Entry] in
                let batch = Array(state.pending.prefix(Self.maximumBatch))
                state.pending.removeFirst(batch.count)
                if batch.isEmpty { state.draining = false }
                return batch
            }
            guard let scope = batch.last?.scope else { return }
            previousBatch = batch.count
            let started = ContinuousClock.now
            do {
                let records = batch.map(\.record)
                let events = try await scope.transaction { [patientIndexBatch] database in
                    try await AuditTrail.insert(records, in: database, scope: scope, patientIndexBatch: patientIndexBatch)
                }
                metrics.committed(batch: events, duration: ContinuousClock.now - started)
                for entry in batch { entry.done.resume() }
            } catch {
                for entry in batch { entry.done.resume(throwing: error) }
            }
        }
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

    func counted(_ events: [AuditEvent]) {
        for event in events { counter(action: event.action, outcome: event.outcome.rawValue).increment() }
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

    func committed(batch events: [AuditEvent], duration: Duration) {
        batchSize.record(Double(events.count))
        commitDuration.record(duration)
        counted(events)
    }
}
