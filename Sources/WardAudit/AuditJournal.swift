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
/// Every event reaches its trail exactly once: whatever appends journaled events skips those
/// whose id the trail already holds (`notInTrail`). On PostgreSQL a move also deletes the rows
/// it takes in its transaction (tenants and the journal share the database); on SQLite, where
/// they are two files, rows are removed after their events are appended, and a move cut short
/// between the two finds them in the trail next time.
package final class AuditJournal: Sendable {
    struct Entry: Sendable {
        let stamped: StampedRecord
        let scope: TenantScope
    }

    private let database: any Database
    private let table: String
    private let commits = GroupCommit<Entry>()
    /// The tenants with events journaled by this node since their last move.
    private let dirty = Mutex<[String: TenantScope]>([:])
    /// On SQLite (one node), the events this node journaled and has not yet seen moved, by
    /// tenant: a mutation's append takes them first (`takeForAppend`) without reading the journal.
    private let unmoved = Mutex<[String: [Journaled]]>([:])

    /// On PostgreSQL, the tenants this node journaled events of since it last moved them.
    private let unmovedTenants = Mutex<Set<String>>([])

    /// Whether this node journaled events of the tenant it has not yet seen moved: a
    /// mutation's append then takes them first. (Another node's journaled reads are moved by
    /// it or by the mover; a change does not wait for them.)
    func mayHold(_ tenantID: String) -> Bool {
        switch database.dialect {
        case .postgres: return unmovedTenants.withLock { $0.contains(tenantID) }
        case .sqlite: return unmoved.withLock { $0[tenantID] != nil }
        }
    }

    /// Whether the tenant's trail shares the journal's database, so one transaction can take
    /// rows from one and append them to the other: always on SQLite's one node; on PostgreSQL
    /// for tenants on the control plane's own cluster. A tenant on another shard records its
    /// reads in its own trail instead; events journaled before it moved there are moved in two
    /// steps (`moveAcross`).
    func shares(_ scope: TenantScope) -> Bool {
        database.dialect == .sqlite || (scope.current.database as AnyObject) === (database as AnyObject)
    }

    /// Notes that the tenant's journaled events were moved (PostgreSQL).
    func moved(_ tenantID: String) {
        unmovedTenants.withLock { _ = $0.remove(tenantID) }
    }

    let logger = Logger(label: "ward.audit")

    /// The most events one move takes; more are taken by the next.
    static let moveBatch = 2048
    /// The most journal rows a round of moves reads at once on SQLite.
    static let roundBatch = 8192

    package init(storage: Storage) {
        self.database = storage.controlPlane
        self.table = storage.controlPlaneTarget.schema.map { "\"\($0)\".audit_journal" } ?? "audit_journal"
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
            dirty.withLock { dirty in for entry in entries { dirty[entry.scope.tenant.id] = entry.scope } }
        }
    }

    /// Takes the tenants journaled since the last call.
    func takeDirty() -> [TenantScope] {
        dirty.withLock { dirty in defer { dirty = [:] }; return Array(dirty.values) }
    }

    /// Marks `scope`'s tenant for the next move again (its move failed).
    func markDirty(_ scope: TenantScope) {
        dirty.withLock { $0[scope.tenant.id] = scope }
    }

    /// The tenants of whose events the journal holds any, by id.
    func journaledTenants() async throws -> Set<String> {
        let table = self.table
        return try await database.read { database in
            Set(try await database.reusedRows(SQLText.Statement("SELECT DISTINCT tenant_id FROM " + table, binds: []))
                .map { try $0.decode(column: "tenant_id", as: String.self) })
        }
    }

    /// Removes the events journaled for a tenant that no longer exists; returns how many.
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
        case .postgres:
            // One statement whatever the batch's size (it stays prepared): the rows travel as
            // one JSON array, as the trail's own inserts do.
            let text = "INSERT INTO " + table + " (" + Self.columnList + ") SELECT " + Self.columnList
                + " FROM json_to_recordset($1::json) AS rows (" + Self.columns.map { "\"\($0)\" text" }.joined(separator: ", ") + ")"
            var rows = "["
            rows.reserveCapacity(entries.count * 600)
            for (index, entry) in entries.enumerated() {
                if index > 0 { rows.append(",") }
                AuditStore.appendJSONRow(columns: Self.columns, values: Self.values(of: entry), to: &rows)
            }
            rows.append("]")
            let batch = rows
            try await database.autocommit { database in
                try await database.execute(sql: SQLText.Reused(SQLText.Statement(text, binds: [batch]))) { _ in }
            }
            unmovedTenants.withLock { tenants in for entry in entries { tenants.insert(entry.scope.tenant.id) } }
        }
    }

    /// The values of `entry`, in the order of `columns`: its tenant, then the trail's values of
    /// an event but the first (its number) and the last two (its hashes).
    private static func values(of entry: Entry) -> [any Encodable & Sendable] {
        let event = AuditEvent(entry.stamped, seq: 0, prevHash: "", hash: "")
        return [entry.scope.tenant.id] + Array(AuditStore.values(of: event).dropFirst().dropLast(2))
    }

    /// A journaled event read back: its place in the journal, its tenant and the record as stamped.
    struct Journaled: Sendable {
        let position: Int64
        let tenantID: String
        let stamped: StampedRecord
    }

    private static func entry(from row: any SQLRow) throws -> Journaled {
        Journaled(position: try row.decode(column: "journal_seq", as: Int64.self), tenantID: try row.decode(column: "tenant_id", as: String.self),
                  stamped: try AuditStore.stamped(from: row))
    }

    /// The columns a move reads back.
    private static let selected = "journal_seq, " + SQLText.columns(columns)

    /// On PostgreSQL, moves up to `moveBatch` of the tenant's journaled events into its trail in
    /// one transaction that deletes them from the journal; returns the events appended, the
    /// trail's tail after them, and whether the batch was full (more may follow).
    func movePostgres(_ scope: TenantScope, patientIndexBatch: Int64) async throws -> (events: [AuditEvent], tail: AuditTrail.Tail?, full: Bool) {
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
    /// them happened: the audit writer's lag.
    func backlog() async throws -> (events: Int, oldest: String?) {
        let table = self.table
        return try await database.read { database in
            let row = try await database.raw("SELECT COUNT(*) AS n, MIN(occurred_at) AS oldest FROM \(unsafeRaw: table)").first()
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

    /// On SQLite, appends a tenant's journaled events (oldest first) to its trail, but for those
    /// already there; returns the events appended and the tail.
    func appendSQLite(_ rows: [Journaled], to scope: TenantScope, patientIndexBatch: Int64) async throws -> (events: [AuditEvent], tail: AuditTrail.Tail?) {
        guard let through = rows.last?.position else { return ([], nil) }
        let appended = try await scope.transaction { database -> (events: [AuditEvent], tail: AuditTrail.Tail?) in
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
    /// transaction) takes before its own event, so the trail keeps the reads answered before
    /// the change ahead of it, those not in the trail yet, at most `moveBatch` (the mover takes
    /// any more). On PostgreSQL they are deleted from the journal in that transaction (after the
    /// trail's lock, which the caller holds); on SQLite they are this node's unmoved events, and
    /// their journal rows go with the next round's removal.
    func takeForAppend(in database: any SQLDatabase, scope: TenantScope) async throws -> [StampedRecord] {
        switch self.database.dialect {
        case .postgres:
            let rows = try await database.reusedRows(SQLText.Statement("""
                DELETE FROM \(table) WHERE journal_seq IN (
                    SELECT journal_seq FROM \(table) WHERE tenant_id = $1 ORDER BY journal_seq LIMIT $2
                ) RETURNING \(Self.selected)
                """, binds: [scope.tenant.id, Self.moveBatch]))
            if rows.count < Self.moveBatch { moved(scope.tenant.id) }
            let taken = try rows.map(Self.entry(from:)).sorted { $0.position < $1.position }.map(\.stamped)
            return try await Self.notInTrail(taken, in: database, scope: scope)
        case .sqlite:
            let rows = unmoved.withLock { ($0[scope.tenant.id] ?? []).prefix(Self.moveBatch) }
            return try await Self.notInTrail(rows.map(\.stamped), in: database, scope: scope)
        }
    }

    /// Forgets this node's unmoved events of a tenant up to `through` (SQLite), once moved.
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
            return try await movePostgres(scope, journal: journal)
        case .sqlite:
            var moved = 0, after: Int64 = 0
            while true {
                let rows = try await journal.pending(after: after, limit: AuditJournal.moveBatch, tenantID: scope.tenant.id)
                guard let last = rows.last?.position else { return moved }
                moved += try await appendSQLite(rows, to: scope, journal: journal)
                try await journal.forget(through: last, tenantID: scope.tenant.id)
                after = last
            }
        }
    }

    /// On PostgreSQL, moves every journaled event of the tenant, batch by batch.
    private func movePostgres(_ scope: TenantScope, journal: AuditJournal) async throws -> Int {
        var moved = 0
        while true {
            // Stamped before the move: everything in the trail then is in the head it gives.
            let startedAt = Date()
            let (events, tail, full) = try await journal.movePostgres(scope, patientIndexBatch: patientIndexBatch)
            moved += events.count
            if let tail { writer(for: scope).witnessIfDue(tail, of: scope.tenant.id, readAt: startedAt) }
            if !full {
                journal.moved(scope.tenant.id)
                return moved
            }
        }
    }

    private func appendSQLite(_ rows: [AuditJournal.Journaled], to scope: TenantScope, journal: AuditJournal) async throws -> Int {
        let startedAt = Date()
        let (events, tail) = try await journal.appendSQLite(rows, to: scope, patientIndexBatch: patientIndexBatch)
        if let tail { writer(for: scope).witnessIfDue(tail, of: scope.tenant.id, readAt: startedAt) }
        return events.count
    }

    /// Moves journaled events into their trails; returns how many moved. On PostgreSQL: of the
    /// tenants this node journaled since the last call, or with `everything`, of every tenant
    /// the journal holds events of (at start, after a crash, and now and then for another
    /// node's). On SQLite (one node) the journal is read in order, all of it, every time. A
    /// tenant whose move fails is tried again next time; events of a tenant that no longer
    /// exists are discarded, with a warning.
    @discardableResult
    package func moveJournal(everything: Bool, tenants: TenantDirectory) async -> Int {
        guard let journal else { return 0 }
        do {
            switch journal.dialect {
            case .postgres: return try await moveJournalPostgres(journal, everything: everything, tenants: tenants)
            case .sqlite: return try await moveJournalSQLite(journal, tenants: tenants)
            }
        } catch {
            journal.logger.error("audit journal: reading the journal failed", metadata: ["error": "\(error)"])
            return 0
        }
    }

    private func moveJournalPostgres(_ journal: AuditJournal, everything: Bool, tenants: TenantDirectory) async throws -> Int {
        var scopes = journal.takeDirty()
        if everything {
            // A tenant whose database cannot be opened keeps its rows for the next sweep.
            let journaled = try await journal.journaledTenants().subtracting(scopes.map(\.tenant.id))
            let resolved = await Self.scopes(of: journaled, in: tenants, journal: journal)
            scopes += resolved.scopes
            for id in resolved.gone {
                let discarded = try await journal.discard(tenantID: id)
                journal.logger.warning("audit journal: events of a removed tenant discarded", metadata: ["tenant_id": "\(id)", "events": "\(discarded)"])
            }
        }
        let round = await Self.forEach(scopes, journal: journal) { scope in try await self.movePostgres(scope, journal: journal) }
        for scope in scopes where round.failed.contains(scope.tenant.id) { journal.markDirty(scope) }
        return round.moved
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
                try await self.appendSQLite(byTenant[scope.tenant.id] ?? [], to: scope, journal: journal)
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
