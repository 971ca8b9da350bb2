import Foundation
import Logging
import SQLKit
import Synchronization
import WardCore
package import WardStorage

/// The node's journal of audited reads, in the control plane: where a read's event becomes
/// durable before the read is answered, so that concurrent reads of any tenants share one
/// commit. A tenant's own trail is one database (a file on SQLite, a schema on PostgreSQL), and
/// with reads spread over many tenants a trail's group commit took one event each: a commit per
/// read. The mover (`AuditTrail.moveJournal`, run by the audit module's service) then chains
/// each tenant's journaled events into its trail in batches, within a fraction of a second;
/// whatever reads the trail (`AuditTrail.events`, `verify`) moves that tenant's first.
///
/// Every event reaches its trail exactly once: whatever appends journaled events does so under
/// the trail's lock and skips those whose id the trail already holds (`notInTrail`), or, in one
/// statement, is refused whole by the trail's unique key on ids and appends the safe way. On SQLite
/// the journal holds a row per event; rows are removed after their events are appended, and a
/// move cut short between the two finds them in the trail next time. On PostgreSQL it holds a
/// row per group commit (`audit_journal_batches`): the node keeps what it wrote in memory,
/// appends each tenant's events from there, then deletes the batches; a batch is deleted only
/// once every tenant in it has its events in its trail. Batches a node left (it stopped before
/// moving them) are read back by the other nodes' sweeps, and rows of the per-event table an
/// earlier release wrote are moved as they were.
package final class AuditJournal: Sendable {
    /// A read waiting for the journal's commit. A class: the group commit and the write pass
    /// entries along, and a scope and a record copied field by field cost a read more than
    /// the write's JSON did.
    final class Entry: Sendable {
        let stamped: StampedRecord
        let scope: TenantScope

        init(stamped: StampedRecord, scope: TenantScope) {
            self.stamped = stamped
            self.scope = scope
        }
    }

    private let database: any Database
    /// The journal of one row per event: SQLite's; on PostgreSQL, the previous release's.
    private let table: String
    /// On PostgreSQL, the journal of one row per group commit.
    private let batchTable: String
    private let commits = GroupCommit<Entry>()
    /// On SQLite, the tenants with events journaled by this node since their last round.
    private let dirty = Mutex<[String: TenantScope]>([:])
    /// The events this node journaled and has not yet seen moved, by tenant: a mutation's
    /// append takes them first (`takeForAppend`) without reading the journal, and on PostgreSQL
    /// the mover appends them from here.
    private let unmoved = Mutex<[String: [Journaled]]>([:])
    /// On PostgreSQL, the batches this node wrote and has not yet deleted: by number, the scopes
    /// of the tenants with events in each.
    private let batches = Mutex<[Int64: [String: TenantScope]]>([:])

    /// Whether this node journaled events of the tenant it has not yet seen moved: a
    /// mutation's append then takes them first. (Another node's journaled reads are moved by
    /// it or by the mover; a change does not wait for them.)
    func mayHold(_ tenantID: String) -> Bool {
        unmoved.withLock { $0[tenantID] != nil }
    }

    /// Whether the tenant's trail shares the journal's database: always on SQLite's one node; on
    /// PostgreSQL for tenants on the control plane's own cluster. A tenant on another shard
    /// records its reads in its own trail instead (a move there is a second cluster's commit);
    /// events journaled before it moved there follow it (`AuditTrail.appendJournaled`).
    func shares(_ scope: TenantScope) -> Bool {
        database.dialect == .sqlite || (scope.current.database as AnyObject) === (database as AnyObject)
    }

    let logger = Logger(label: "ward.audit")

    /// The most events one move takes; more are taken by the next.
    static let moveBatch = 2048
    /// The most journal rows a round of moves reads at once on SQLite.
    static let roundBatch = 8192
    /// The most batches read back at once on PostgreSQL (a sweep, a reader's settle).
    static let batchPage = 64
    /// How old a batch's oldest event is before a sweep (but the one at start) takes it from
    /// the node that wrote it, in seconds.
    static let sweepAge: TimeInterval = 30

    /// On PostgreSQL, how many of a tenant's events this node holds in memory while its moves
    /// fail before it leaves them to the sweeps, which read them back.
    let memoryLimit: Int

    package init(storage: Storage, memoryLimit: Int = 16_384) {
        self.memoryLimit = memoryLimit
        self.database = storage.controlPlane
        let space = storage.controlPlaneTarget.schema.map { "\"\($0)\"." } ?? ""
        self.table = space + "audit_journal"
        self.batchTable = space + "audit_journal_batches"
    }

    /// The journal's columns: the tenant, then an event's fields but its number and hashes.
    static let columns = ["tenant_id"] + AuditStore.columns.filter { !["seq", "prev_hash", "hash"].contains($0) }
    private static let columnList = SQLText.columns(columns)

    /// Returns once `record` is durable in the journal.
    func record(_ record: AuditRecord, in scope: TenantScope, metrics: AuditMetrics) async throws {
        try await commits.submit(Entry(stamped: StampedRecord(record, at: Date()), scope: scope)) { [self] entries in
            let started = ContinuousClock.now
            try await write(entries)
            metrics.committed(entries.map(\.stamped.record), duration: ContinuousClock.now - started)
        }
    }

    /// On SQLite, takes the tenants journaled since the last call.
    func takeDirty() -> [TenantScope] {
        dirty.withLock { dirty in defer { dirty = [:] }; return Array(dirty.values) }
    }

    /// On PostgreSQL, takes the batches this node wrote since the last call (by number, the
    /// scopes of their tenants).
    func takeBatches() -> [Int64: [String: TenantScope]] {
        batches.withLock { batches in defer { batches = [:] }; return batches }
    }

    /// Gives back batches whose move failed for some tenant, for the next round.
    func restoreBatches(_ kept: [Int64: [String: TenantScope]]) {
        batches.withLock { batches in batches.merge(kept) { current, _ in current } }
    }

    /// The numbers of the batches this node wrote and has not yet taken for a move.
    func ownBatches() -> Set<Int64> {
        batches.withLock { Set($0.keys) }
    }

    /// How many of a tenant's events this node holds unmoved.
    func unmovedCount(of tenantID: String) -> Int {
        unmoved.withLock { $0[tenantID]?.count ?? 0 }
    }

    /// This node's unmoved events of a tenant journaled in batches up to `through`, oldest first.
    func unmovedEvents(of tenantID: String, through: Int64) -> [Journaled] {
        unmoved.withLock { ($0[tenantID] ?? []).filter { $0.position <= through } }
    }

    /// On PostgreSQL, deletes batches whose every event is in its trail (or whose tenant is gone).
    func forgetBatches(_ numbers: some Collection<Int64>) async throws {
        guard !numbers.isEmpty else { return }
        let statement = SQLText.Statement(
            "DELETE FROM " + batchTable + " WHERE journal_seq IN (SELECT json_array_elements_text($1::json)::bigint)",
            binds: ["[" + numbers.map(String.init).joined(separator: ",") + "]"]
        )
        try await database.autocommit { database in try await database.execute(sql: SQLText.Reused(statement)) { _ in } }
    }

    /// On PostgreSQL, up to `batchPage` batches numbered after `after`, oldest first (with
    /// `tenantID`, those holding that tenant's events; with `before`, those whose oldest event
    /// happened before that time), with their tenants; and their events (with `tenantID`, that
    /// tenant's only) in the order they were journaled, each with its batch's number as its
    /// position.
    func batchesWritten(
        after: Int64, tenantID: String? = nil, before: Date? = nil
    ) async throws -> (batches: [(number: Int64, tenants: [String])], events: [Journaled]) {
        let batchTable = self.batchTable
        var text = "SELECT journal_seq, array_to_string(tenants, ' ') AS tenants FROM " + batchTable + " WHERE journal_seq > $1"
        var binds: [any Encodable & Sendable] = [after, Self.batchPage]
        if let tenantID {
            binds.append(tenantID)
            text += " AND $\(binds.count) = ANY(tenants)"
        }
        if let before {
            // Times are stored as UTC text of one width, which orders as the times do.
            binds.append(Timestamp.text(before))
            text += " AND oldest < $\(binds.count)"
        }
        let statement = SQLText.Statement(text + " ORDER BY journal_seq LIMIT $2", binds: binds)
        return try await database.read { database in
            let found = try await database.reusedRows(statement).map { row in
                (number: try row.decode(column: "journal_seq", as: Int64.self),
                 tenants: try row.decode(column: "tenants", as: String.self).split(separator: " ").map(String.init))
            }
            guard !found.isEmpty else { return ([], []) }
            let fields = Self.columns.map { "e.value->>'\($0)' AS \"\($0)\"" }.joined(separator: ", ")
            let events = try await database.reusedRows(SQLText.Statement(
                "SELECT b.journal_seq, " + fields + " FROM " + batchTable
                    + " b CROSS JOIN LATERAL json_array_elements(b.events::json) WITH ORDINALITY AS e(value, n)"
                    + " WHERE b.journal_seq IN (SELECT json_array_elements_text($1::json)::bigint)"
                    + (tenantID == nil ? "" : " AND e.value->>'tenant_id' = $2") + " ORDER BY b.journal_seq, e.n",
                binds: ["[" + found.map { String($0.number) }.joined(separator: ",") + "]"] + (tenantID.map { [$0] } ?? [])
            )).map(Self.entry(from:))
            return (found, events)
        }
    }

    /// The tenants of whose events the per-event journal holds any, by id (on PostgreSQL, what
    /// nodes of the previous release journaled).
    func journaledTenants() async throws -> Set<String> {
        let table = self.table
        return try await database.read { database in
            Set(try await database.reusedRows(SQLText.Statement("SELECT DISTINCT tenant_id FROM " + table, binds: []))
                .map { try $0.decode(column: "tenant_id", as: String.self) })
        }
    }

    /// Removes the events the per-event journal holds for a tenant that no longer exists;
    /// returns how many.
    func discard(tenantID: String) async throws -> Int {
        let table = self.table, dialect = database.dialect
        return try await database.autocommit { database in
            try await database.reusedRows(SQLText.Statement(
                "DELETE FROM " + table + " WHERE tenant_id = " + SQLText.placeholders(1...1, dialect: dialect) + " RETURNING 1",
                binds: [tenantID]
            )).count
        }
    }

    private func write(_ entries: [Entry]) async throws {
        switch database.dialect {
        case .sqlite:
            let text = "INSERT INTO " + table + " (" + Self.columnList + ") VALUES ("
                + SQLText.placeholders(1...Self.columns.count, dialect: .sqlite) + ") RETURNING journal_seq"
            let written = try await database.transaction { database in
                var written: [Journaled] = []
                for entry in entries {
                    let position = try await database.reusedRows(SQLText.Statement(text, binds: Self.values(of: entry)))
                        .first?.decode(column: "journal_seq", as: Int64.self) ?? 0
                    written.append(Journaled(position: position, tenantID: entry.scope.tenant.id, stamped: entry.stamped))
                }
                return written
            }
            unmoved.withLock { unmoved in for row in written { unmoved[row.tenantID, default: []].append(row) } }
            dirty.withLock { dirty in for entry in entries { dirty[entry.scope.tenant.id] = entry.scope } }
        case .postgres:
            // One row, one statement whatever the batch's size (it stays prepared): the events
            // as the JSON array the trail's inserts take, written once until they are moved.
            var rows = "[", scopes: [String: TenantScope] = [:]
            rows.reserveCapacity(entries.count * 600)
            for (index, entry) in entries.enumerated() {
                if index > 0 { rows.append(",") }
                Self.appendJSONRow(entry, to: &rows)
                scopes[entry.scope.tenant.id] = entry.scope
            }
            rows.append("]")
            var tenants = "["
            for (index, id) in scopes.keys.enumerated() {
                if index > 0 { tenants.append(",") }
                JSONText.appendString(id, to: &tenants)
            }
            tenants.append("]")
            let text = "INSERT INTO " + batchTable + " (tenants, event_count, oldest, events)"
                + " SELECT ARRAY(SELECT json_array_elements_text($1::json)), $2, $3, $4 RETURNING journal_seq"
            let binds: [any Encodable & Sendable] = [tenants, entries.count, entries.map(\.stamped.occurredAt).min()!, rows]
            let number = try await database.autocommit { database in
                guard let row = try await database.reusedRows(SQLText.Statement(text, binds: binds)).first else {
                    throw StorageError.missingColumn("journal_seq")
                }
                return try row.decode(column: "journal_seq", as: Int64.self)
            }
            unmoved.withLock { unmoved in
                for entry in entries {
                    unmoved[entry.scope.tenant.id, default: []].append(Journaled(position: number, tenantID: entry.scope.tenant.id, stamped: entry.stamped))
                }
            }
            batches.withLock { $0[number] = scopes }
        }
    }

    /// The values of `entry`, in the order of `columns`: its tenant, then the trail's values of
    /// an event but the first (its number) and the last two (its hashes).
    static func values(of entry: Entry) -> [any Encodable & Sendable] {
        let event = AuditEvent(entry.stamped, seq: 0, prevHash: "", hash: "")
        return [entry.scope.tenant.id] + Array(AuditStore.values(of: event).dropFirst().dropLast(2))
    }

    /// `entry` as a JSON object keyed by `columns`, as a batch row holds it: the values
    /// `values(of:)` binds on SQLite.
    static func appendJSONRow(_ entry: Entry, to json: inout String) {
        json.append("{\"tenant_id\":")
        JSONText.appendString(entry.scope.tenant.id, to: &json)
        AuditStore.appendJSONMembers(of: AuditEvent(entry.stamped, seq: 0, prevHash: "", hash: ""), to: &json)
        json.append("}")
    }

    /// A journaled event: its place in the journal, its tenant and the record as stamped. A
    /// class, so the node's unmoved events are filtered and handed to moves without copying
    /// each record's fields.
    final class Journaled: Sendable {
        let position: Int64
        let tenantID: String
        let stamped: StampedRecord

        init(position: Int64, tenantID: String, stamped: StampedRecord) {
            self.position = position
            self.tenantID = tenantID
            self.stamped = stamped
        }
    }

    private static func entry(from row: any SQLRow) throws -> Journaled {
        Journaled(position: try row.decode(column: "journal_seq", as: Int64.self), tenantID: try row.decode(column: "tenant_id", as: String.self),
                  stamped: try AuditStore.stamped(from: row))
    }

    /// The columns a move reads back.
    private static let selected = "journal_seq, " + SQLText.columns(columns)

    /// On PostgreSQL, moves up to `moveBatch` of the tenant's events in the per-event journal
    /// (the previous release's) into its trail in one transaction that deletes them from the
    /// journal; returns the events appended, the trail's tail after them, and whether the batch
    /// was full (more may follow).
    func movePerEvent(_ scope: TenantScope, patientIndexBatch: Int64) async throws -> (events: [AuditEvent], tail: AuditTrail.Tail?, full: Bool) {
        // A scope whose tenant moved to another shard while its events waited follows it there.
        let scope = scope.current
        guard let schema = scope.schema else { return ([], nil, false) }
        guard shares(scope) else { return try await moveAcross(scope, patientIndexBatch: patientIndexBatch) }
        let table = self.table
        return try await scope.transaction { database in
            // The trail's lock first: a concurrent move of this tenant (another node's, or a
            // reader's) waits here, then finds the rows it would have taken gone.
            _ = try await database.reusedRows(SQLQueryString("SELECT pg_advisory_xact_lock(hashtext(\(bind: AuditTrail.lockKey(schema))))"))
            let rows = try await database.reusedRows(SQLText.Statement("""
                DELETE FROM \(table) WHERE journal_seq IN (
                    SELECT journal_seq FROM \(table) WHERE tenant_id = $1 ORDER BY journal_seq LIMIT $2
                ) RETURNING \(Self.selected)
                """, binds: [scope.tenant.id, Self.moveBatch]))
            let taken = try rows.map(Self.entry(from:)).sorted { $0.position < $1.position }.map(\.stamped)
            let fresh = try await Self.notInTrail(taken, in: database, scope: scope)
            guard !fresh.isEmpty else { return ([], nil, taken.count == Self.moveBatch) }
            let (events, tail) = try await AuditTrail.insertReturningTail(fresh, in: database, scope: scope, patientIndexBatch: patientIndexBatch)
            return (events, tail, taken.count == Self.moveBatch)
        }
    }

    /// Moves up to `moveBatch` of the tenant's journaled events into its trail on another
    /// cluster (a tenant moved off the control plane's, with reads journaled before the switch):
    /// appended in the tenant's transaction, but for those its trail holds already, then
    /// removed from the journal. A move cut short between the two finds them in the trail and
    /// removes them the next time.
    private func moveAcross(_ scope: TenantScope, patientIndexBatch: Int64) async throws -> (events: [AuditEvent], tail: AuditTrail.Tail?, full: Bool) {
        let table = self.table
        let rows = try await database.read { database in
            try await database.reusedRows(SQLText.Statement(
                "SELECT \(Self.selected) FROM \(table) WHERE tenant_id = $1 ORDER BY journal_seq LIMIT $2", binds: [scope.tenant.id, Self.moveBatch]
            )).map(Self.entry(from:))
        }
        guard !rows.isEmpty else { return ([], nil, false) }
        let appended = try await scope.transaction { database -> (events: [AuditEvent], tail: AuditTrail.Tail?) in
            let fresh = try await Self.notInTrail(rows.map(\.stamped), in: database, scope: scope)
            guard !fresh.isEmpty else { return ([], nil) }
            return try await AuditTrail.insertReturningTail(fresh, in: database, scope: scope, patientIndexBatch: patientIndexBatch)
        }
        let positions = rows.map(\.position)
        try await database.transaction { database in
            try await database.raw("DELETE FROM \(unsafeRaw: table) WHERE journal_seq = ANY(\(bind: positions))").run()
        }
        return (appended.events, appended.tail, rows.count == Self.moveBatch)
    }

    /// How many journaled events wait to be moved into their trails, and when the oldest of
    /// them happened: the audit writer's lag. (On PostgreSQL a batch counts whole until it is
    /// deleted, though a reader's settle may have moved some of its events already.)
    func backlog() async throws -> (events: Int, oldest: String?) {
        let text = switch database.dialect {
        case .sqlite: "SELECT COUNT(*) AS n, MIN(occurred_at) AS oldest FROM " + table
        case .postgres:
            """
            SELECT (SELECT COUNT(*) FROM \(table)) + (SELECT COALESCE(SUM(event_count), 0) FROM \(batchTable)) AS n,
                   LEAST((SELECT MIN(occurred_at) FROM \(table)), (SELECT MIN(oldest) FROM \(batchTable))) AS oldest
            """
        }
        return try await database.read { database in
            let row = try await database.reusedRows(SQLText.Statement(text, binds: [])).first
            return (try row?.decode(column: "n", as: Int.self) ?? 0, try row?.decode(column: "oldest", as: String?.self))
        }
    }

    /// On SQLite, up to `limit` journaled events numbered after `after`, oldest first, of one
    /// tenant or of all. The journal has no index but its key: an index by tenant put each
    /// read's row on its tenant's page, and with reads spread over a hundred tenants a group
    /// commit wrote a page per event. A round of moves reads the journal in order once instead;
    /// a single tenant's (a reader settling it) scans what is journaled, seconds' worth.
    func pending(after: Int64, limit: Int, tenantID: String? = nil) async throws -> [Journaled] {
        let table = self.table
        return try await database.read { database in
            let text = "SELECT " + Self.selected + " FROM " + table + " WHERE journal_seq > ?1"
                + (tenantID == nil ? "" : " AND tenant_id = ?3") + " ORDER BY journal_seq LIMIT ?2"
            let binds: [any Encodable & Sendable] = [after, limit] + (tenantID.map { [$0] } ?? [])
            return try await database.reusedRows(SQLText.Statement(text, binds: binds)).map(Self.entry(from:))
        }
    }

    /// Appends a tenant's journaled events (oldest first, at most `moveBatch`) to its trail, but
    /// for those already there, and forgets this node's copies of them; returns the events
    /// appended and the tail. On PostgreSQL the trail's lock comes before the check, so
    /// appenders racing for the same events (two nodes' sweeps, a reader's settle, the mover)
    /// take turns and the second finds them there.
    func append(_ rows: ArraySlice<Journaled>, to scope: TenantScope, patientIndexBatch: Int64) async throws -> (events: [AuditEvent], tail: AuditTrail.Tail?) {
        guard let through = rows.map(\.position).max() else { return ([], nil) }
        // A tenant moved to another shard since takes its events there.
        let scope = scope.current
        let appended = try await scope.transaction { database -> (events: [AuditEvent], tail: AuditTrail.Tail?) in
            if scope.database.dialect == .postgres, let schema = scope.schema {
                _ = try await database.reusedRows(SQLQueryString("SELECT pg_advisory_xact_lock(hashtext(\(bind: AuditTrail.lockKey(schema))))"))
            }
            let fresh = try await Self.notInTrail(rows.map(\.stamped), in: database, scope: scope)
            guard !fresh.isEmpty else { return ([], nil) }
            return try await AuditTrail.insertReturningTail(fresh, in: database, scope: scope, patientIndexBatch: patientIndexBatch)
        }
        moved(scope.tenant.id, through: through)
        return appended
    }

    /// `records` without those already in the tenant's trail (by event id, which the trail
    /// keeps unique) and without repeats: what makes every way an event reaches its trail (a
    /// move, a reader's settle, a mutation taking its tenant's reads, a move cut short before the
    /// journal's rows were removed, a journal row written twice when an answer was lost)
    /// append it exactly once. One statement whatever the count: the ids travel as JSON.
    static func notInTrail(_ records: [StampedRecord], in database: any SQLDatabase, scope: TenantScope) async throws -> [StampedRecord] {
        var seen = Set<String>()
        let unique = records.filter { seen.insert($0.id).inserted }
        guard !unique.isEmpty else { return [] }
        var ids = "["
        for (index, record) in unique.enumerated() {
            if index > 0 { ids.append(",") }
            JSONText.appendString(record.id, to: &ids)
        }
        ids.append("]")
        let trail = try scope.tableName("audit_events")
        let text = switch scope.database.dialect {
        case .sqlite: "SELECT id FROM " + trail + " WHERE id IN (SELECT value FROM json_each(?1))"
        case .postgres: "SELECT id FROM " + trail + " WHERE id IN (SELECT json_array_elements_text($1::json))"
        }
        let present = Set(try await database.reusedRows(SQLText.Statement(text, binds: [ids])).map { try $0.decode(column: "id", as: String.self) })
        return present.isEmpty ? unique : unique.filter { !present.contains($0.id) }
    }

    /// The tenant's journaled events a mutation's append (in `database`, the tenant's open
    /// transaction, the trail's lock held) takes before its own event, so the trail keeps the
    /// reads answered before the change ahead of it: this node's unmoved events, those not in the
    /// trail yet, at most `moveBatch` (the mover takes any more). Their journal rows stay until
    /// the mover's round, which then finds them in the trail.
    func takeForAppend(in database: any SQLDatabase, scope: TenantScope) async throws -> [StampedRecord] {
        let rows = unmoved.withLock { ($0[scope.tenant.id] ?? []).prefix(Self.moveBatch) }
        return try await Self.notInTrail(rows.map(\.stamped), in: database, scope: scope)
    }

    /// Forgets this node's unmoved events of a tenant up to `through`, once moved.
    func moved(_ tenantID: String, through: Int64) {
        unmoved.withLock { unmoved in
            guard let rows = unmoved[tenantID] else { return }
            let left = rows.filter { $0.position > through }
            unmoved[tenantID] = left.isEmpty ? nil : left
        }
    }

    /// On SQLite, removes the journal's rows numbered up to `through`, but for those of the
    /// tenants in `keeping` (whose move failed), in one commit; with `tenantID`, only that
    /// tenant's. Until then moved rows are journaled twice, harmlessly: a move skips events
    /// already in their trail.
    func forget(through: Int64, keeping: Set<String> = [], tenantID: String? = nil) async throws {
        guard database.dialect == .sqlite else { return }
        var text = "DELETE FROM " + table + " WHERE journal_seq <= ?1"
        var binds: [any Encodable & Sendable] = [through]
        if let tenantID {
            text += " AND tenant_id = ?2"
            binds.append(tenantID)
        } else if !keeping.isEmpty {
            text += " AND tenant_id NOT IN (" + SQLText.placeholders(2...(keeping.count + 1), dialect: .sqlite) + ")"
            binds += keeping.sorted().map { $0 as any Encodable & Sendable }
        }
        let statement = SQLText.Statement(text, binds: binds)
        try await database.autocommit { database in try await database.execute(sql: statement) { _ in } }
    }

    var dialect: Dialect { database.dialect }
}

extension AuditTrail {
    /// Journaled events not yet in their trails and the time of the oldest (none without a journal).
    package func journalBacklog() async throws -> (events: Int, oldest: String?) {
        try await journal?.backlog() ?? (0, nil)
    }

    /// Events of the tenant's trail matching `filter` (see `AuditStore.events`), its journaled
    /// events moved in first.
    package func events(in scope: TenantScope, filter: AuditStore.Filter, before: Int64?, limit: Int) async throws -> [AuditEvent] {
        try await settle(scope)
        return try await AuditStore.events(in: scope, filter: filter, before: before, limit: limit)
    }

    /// Verifies the tenant's trail (see `AuditStore.verify`), its journaled events moved in first.
    package func verify(_ scope: TenantScope, witness: AuditWitness? = nil) async throws -> AuditStore.Verification {
        try await settle(scope)
        return try await AuditStore.verify(scope, witness: witness)
    }

    /// Moves the tenant's journaled events into its trail, all of them: what reads the trail
    /// calls this first, so the trail it reads holds every read answered before. Returns how
    /// many it moved.
    @discardableResult
    package func settle(_ scope: TenantScope) async throws -> Int {
        guard let journal else { return 0 }
        switch journal.dialect {
        case .postgres:
            // Every batch holding the tenant's events, any node's; the batches stay, other
            // tenants' events in them waiting for their own moves.
            var moved = try await movePerEvent(scope, journal: journal), after: Int64 = 0
            while true {
                let (found, events) = try await journal.batchesWritten(after: after, tenantID: scope.tenant.id)
                guard let last = found.last?.number else { return moved }
                moved += try await appendJournaled(events, to: scope, journal: journal)
                if found.count < AuditJournal.batchPage { return moved }
                after = last
            }
        case .sqlite:
            var moved = 0, after: Int64 = 0
            while true {
                let rows = try await journal.pending(after: after, limit: AuditJournal.moveBatch, tenantID: scope.tenant.id)
                guard let last = rows.last?.position else { return moved }
                moved += try await appendJournaled(rows, to: scope, journal: journal)
                try await journal.forget(through: last, tenantID: scope.tenant.id)
                after = last
            }
        }
    }

    /// On PostgreSQL, moves every event of the tenant in the per-event journal (the previous
    /// release's), batch by batch.
    private func movePerEvent(_ scope: TenantScope, journal: AuditJournal) async throws -> Int {
        var moved = 0
        while true {
            // Stamped before the move: everything in the trail then is in the head it gives.
            let startedAt = Date()
            let (events, tail, full) = try await journal.movePerEvent(scope, patientIndexBatch: patientIndexBatch)
            moved += events.count
            if let tail { writer(for: scope).witnessIfDue(tail, of: scope.tenant.id, readAt: startedAt) }
            if !full { return moved }
        }
    }

    /// Appends a tenant's journaled events (oldest first) to its trail, `moveBatch` at a time,
    /// but for those already there; returns how many it appended.
    private func appendJournaled(_ rows: [AuditJournal.Journaled], to scope: TenantScope, journal: AuditJournal) async throws -> Int {
        var appended = 0, rest = rows[...]
        let writer = writer(for: scope)
        while !rest.isEmpty {
            let startedAt = Date(), chunk = rest.prefix(AuditJournal.moveBatch)
            rest = rest.dropFirst(AuditJournal.moveBatch)
            // On PostgreSQL, in one statement after the tail this node last wrote, when none of
            // the events is there yet (the usual move); otherwise in a transaction that reads
            // the tail and skips what is there.
            if let fast = await writer.appendJournaled(chunk.map(\.stamped), in: scope.current) {
                journal.moved(scope.tenant.id, through: chunk.map(\.position).max() ?? 0)
                writer.witnessIfDue(fast.tail, of: scope.tenant.id, readAt: startedAt)
                appended += fast.events.count
                continue
            }
            let (events, tail) = try await journal.append(chunk, to: scope, patientIndexBatch: patientIndexBatch)
            if let tail {
                if journal.dialect == .postgres { writer.remember(tail) }
                writer.witnessIfDue(tail, of: scope.tenant.id, readAt: startedAt)
            }
            appended += events.count
        }
        return appended
    }

    /// Moves journaled events into their trails; returns how many moved. On PostgreSQL: the
    /// batches this node journaled since the last call, from its own copies, or with
    /// `everything`, also what the journal holds from any node (at start, after a crash, and now
    /// and then for another node's), read back. On SQLite (one node) the journal is read in
    /// order, all of it, every time. A tenant whose move fails is tried again next time; events
    /// of a tenant that no longer exists are discarded, with a warning. `leftoversOnly` (the
    /// periodic sweep) leaves other nodes' batches to them until they are `sweepAge` old.
    @discardableResult
    package func moveJournal(everything: Bool, leftoversOnly: Bool = false, tenants: TenantDirectory) async -> Int {
        guard let journal else { return 0 }
        do {
            switch journal.dialect {
            case .postgres: return try await moveJournalPostgres(journal, everything: everything, leftoversOnly: leftoversOnly, tenants: tenants)
            case .sqlite: return try await moveJournalSQLite(journal, tenants: tenants)
            }
        } catch {
            journal.logger.error("audit journal: reading the journal failed", metadata: ["error": "\(error)"])
            return 0
        }
    }

    private func moveJournalPostgres(_ journal: AuditJournal, everything: Bool, leftoversOnly: Bool, tenants: TenantDirectory) async throws -> Int {
        var moved = 0
        if everything { moved += try await sweepPostgres(journal, tenants: tenants, leftoversOnly: leftoversOnly) }
        let taken = journal.takeBatches()
        guard let through = taken.keys.max() else { return moved }
        var scopes: [String: TenantScope] = [:]
        for number in taken.keys.sorted() { scopes.merge(taken[number]!) { _, newer in newer } }
        let round = await Self.forEach(Array(scopes.values), journal: journal) { scope in
            try await self.appendJournaled(journal.unmovedEvents(of: scope.tenant.id, through: through), to: scope, journal: journal)
        }
        // A batch with a tenant whose move failed stays, for the next round; the others go. A
        // tenant removed meanwhile has nowhere to take its events: they are discarded.
        var failed = round.failed
        if !failed.isEmpty {
            for id in await Self.scopes(of: failed, in: tenants, journal: journal).gone {
                journal.logger.warning("audit journal: events of a removed tenant discarded", metadata: [
                    "tenant_id": "\(id)", "events": "\(journal.unmovedEvents(of: id, through: through).count)",
                ])
                journal.moved(id, through: through)
                failed.remove(id)
            }
        }
        // A tenant whose moves keep failing would hold its reads in memory without end: past
        // `memoryLimit` its batches are left to the sweeps (no longer this node's), which read
        // them back once they are `sweepAge` old, as a reader's settle does meanwhile.
        var released: Set<String> = []
        for id in failed where journal.unmovedCount(of: id) > journal.memoryLimit {
            journal.logger.warning("audit journal: a tenant's moves keep failing; its events are left to the sweeps", metadata: [
                "tenant_id": "\(id)", "events": "\(journal.unmovedCount(of: id))",
            ])
            journal.moved(id, through: through)
            released.insert(id)
        }
        journal.restoreBatches(taken.filter { !failed.isDisjoint(with: $0.value.keys) && released.isDisjoint(with: $0.value.keys) })
        try await journal.forgetBatches(taken.keys.filter { failed.isDisjoint(with: taken[$0]!.keys) })
        return moved + round.moved
    }

    /// On PostgreSQL, moves what the journal holds from any node but what this node's next round
    /// takes from its own copies: the per-event journal's rows (the previous release's), then the
    /// batches, read back a page at a time; a batch is deleted once every tenant in it has its
    /// events in its trail or no longer exists.
    private func sweepPostgres(_ journal: AuditJournal, tenants: TenantDirectory, leftoversOnly: Bool) async throws -> Int {
        var moved = 0
        // A tenant whose database cannot be opened keeps its rows for the next sweep.
        let journaled = try await journal.journaledTenants()
        let resolved = await Self.scopes(of: journaled, in: tenants, journal: journal)
        for id in resolved.gone {
            let discarded = try await journal.discard(tenantID: id)
            journal.logger.warning("audit journal: events of a removed tenant discarded", metadata: ["tenant_id": "\(id)", "events": "\(discarded)"])
        }
        moved += await Self.forEach(resolved.scopes, journal: journal) { scope in try await self.movePerEvent(scope, journal: journal) }.moved

        // Batches whose oldest event is older than `sweepAge` are another node's leftovers (a
        // live node moves its own within a round or two; at start, everything is). As on
        // SQLite, a tenant that failed on one page is left alone on the later ones, so its
        // events are not appended after later ones.
        let own = journal.ownBatches(), before = leftoversOnly ? Date().addingTimeInterval(-AuditJournal.sweepAge) : nil
        var after: Int64 = 0, failed: Set<String> = []
        while true {
            let (page, events) = try await journal.batchesWritten(after: after, before: before)
            guard let last = page.last?.number else { return moved }
            let found = page.filter { !own.contains($0.number) }
            let byTenant = Dictionary(grouping: events.filter { !own.contains($0.position) && !failed.contains($0.tenantID) }, by: \.tenantID)
            let resolved = await Self.scopes(of: Set(byTenant.keys), in: tenants, journal: journal)
            for id in resolved.gone {
                journal.logger.warning("audit journal: events of a removed tenant discarded", metadata: ["tenant_id": "\(id)", "events": "\(byTenant[id]?.count ?? 0)"])
            }
            let round = await Self.forEach(resolved.scopes, journal: journal) { scope in
                try await self.appendJournaled(byTenant[scope.tenant.id] ?? [], to: scope, journal: journal)
            }
            moved += round.moved
            failed.formUnion(round.failed.union(resolved.failed))
            try await journal.forgetBatches(found.filter { failed.isDisjoint(with: $0.tenants) }.map(\.number))
            if page.count < AuditJournal.batchPage { return moved }
            after = last
        }
    }

    /// One pass over the journal in order. A tenant whose move fails (or whose database cannot
    /// be opened) keeps its rows, and later batches of the pass leave its rows alone too, so its
    /// events are neither removed unmoved nor appended after its later ones; the next pass
    /// takes them again.
    private func moveJournalSQLite(_ journal: AuditJournal, tenants: TenantDirectory) async throws -> Int {
        var moved = 0, after: Int64 = 0, failed: Set<String> = []
        let known = Dictionary(journal.takeDirty().map { ($0.tenant.id, $0) }) { first, _ in first }
        while true {
            let rows = try await journal.pending(after: after, limit: AuditJournal.roundBatch)
            guard let last = rows.last?.position else { return moved }
            let byTenant = Dictionary(grouping: rows.filter { !failed.contains($0.tenantID) }, by: \.tenantID)
            let resolved = await Self.scopes(of: Set(byTenant.keys).subtracting(known.keys), in: tenants, journal: journal)
            failed.formUnion(resolved.failed)
            let scopes = byTenant.keys.compactMap { known[$0] } + resolved.scopes
            for id in resolved.gone {
                journal.logger.warning("audit journal: events of a removed tenant discarded", metadata: ["tenant_id": "\(id)", "events": "\(byTenant[id]?.count ?? 0)"])
            }
            let round = await Self.forEach(scopes, journal: journal) { scope in
                try await self.appendJournaled(byTenant[scope.tenant.id] ?? [], to: scope, journal: journal)
            }
            moved += round.moved
            failed.formUnion(round.failed)
            try await journal.forget(through: last, keeping: failed)
            if rows.count < AuditJournal.roundBatch { return moved }
            after = last
        }
    }

    /// The scopes of the tenants with these ids, the ids of tenants that no longer exist, and
    /// those whose database could not be opened (logged).
    private static func scopes(of ids: Set<String>, in tenants: TenantDirectory, journal: AuditJournal) async
        -> (scopes: [TenantScope], gone: [String], failed: Set<String>) {
        guard !ids.isEmpty else { return ([], [], []) }
        let byID: [String: Tenant]
        do {
            byID = Dictionary(try await tenants.list().map { ($0.id, $0) }) { first, _ in first }
        } catch {
            journal.logger.warning("audit journal: listing tenants failed", metadata: ["error": "\(error)"])
            return ([], [], ids)
        }
        var scopes: [TenantScope] = [], gone: [String] = [], failed: Set<String> = []
        for id in ids.sorted() {
            guard let tenant = byID[id], tenant.status != .deleted else {
                gone.append(id)
                continue
            }
            do {
                scopes.append(try await tenants.scope(for: tenant))
            } catch {
                failed.insert(id)
                journal.logger.warning("audit journal: a tenant's database could not be opened; its events wait", metadata: [
                    "tenant": "\(tenant.slug)", "error": "\(error)",
                ])
            }
        }
        return (scopes, gone, failed)
    }

    /// Runs `move` for each scope, two at a time (enough to overlap their commits, few enough to
    /// leave the pools to requests); returns how many events moved and the ids of the tenants
    /// whose move failed (logged).
    private static func forEach(
        _ scopes: [TenantScope], journal: AuditJournal, _ move: @escaping @Sendable (TenantScope) async throws -> Int
    ) async -> (moved: Int, failed: Set<String>) {
        await withTaskGroup(of: (Int, String?).self) { group in
            var pending = scopes[...], moved = 0, failed: Set<String> = []
            func next() {
                guard let scope = pending.popFirst() else { return }
                group.addTask {
                    do {
                        return (try await move(scope), nil)
                    } catch {
                        journal.logger.warning("audit journal: move failed, to be retried", metadata: [
                            "tenant": "\(scope.tenant.slug)", "error": "\(error)",
                        ])
                        return (0, scope.tenant.id)
                    }
                }
            }
            for _ in 0..<2 { next() }
            for await (count, failure) in group {
                moved += count
                if let failure { failed.insert(failure) }
                next()
            }
            return (moved, failed)
        }
    }
}
