import Foundation
import Logging
import SQLKit
import WardCore

/// Moves one tenant's schema from its shard to another PostgreSQL cluster while the clinic
/// works (`ward tenant move SLUG --to SHARD`):
///
/// 1. The target gets the schema, migrated as this build's, its triggers off while rows load.
/// 2. Every table of the source gets a trigger noting the key of each row changed from then on.
/// 3. A snapshot of every table (one repeatable-read transaction) is copied.
/// 4. The noted changes are copied again, in rounds, until a round finds few.
/// 5. Writes are held: every writing statement on the source passes a gate (a trigger taking an
///    advisory lock shared), and the switch takes that lock alone, so reads go on and writes
///    wait. The last changes are copied, the row counts compared, and the source marked moved
///    before the lock goes: the writers that waited are refused there with SQLSTATE `WMOVD`.
///    Then the control plane points the tenant at the new shard, and those writes run again
///    there (`TenantScope.relocation`): held for the switch, not lost.
/// 6. After `sourceGrace` (long enough for every node's tenant cache to have let the old
///    placement go) the old schema is dropped.
///
/// The audit trail moves as rows (sequence numbers and hashes as they were), so the chain
/// verifies on the new shard. One move runs at a time (`tenant_moves`); a failed move removes
/// its copy and its triggers and leaves the tenant where it was.
package struct TenantMove: Sendable {
    /// What a finished move took.
    package struct Report: Sendable {
        package let from: String
        package let to: String
        /// Rows copied in the snapshot, and again in catch-up rounds.
        package let rowsCopied: Int
        package let changesCopied: Int
        package let rounds: Int
        /// How long writes were held (from the locks to the control plane's switch).
        package let pause: Duration
        package let total: Duration
    }

    /// Where a move is, for an operator watching it.
    package enum Progress: Sendable {
        case copied(table: String, rows: Int)
        case caughtUp(round: Int, changes: Int)
        case switched(pause: Duration)
        case removedSource
    }

    /// One table of the tenant's schema: its columns and its primary key.
    struct Table: Sendable {
        let name: String
        let columns: [String]
        let key: [String]
        var copy: PostgresSchemaCopy.Table { PostgresSchemaCopy.Table(name: name, columns: columns) }
    }

    static let changesTable = "ward_move_changes"
    static let captureFunction = "ward_move_capture"
    static let gateFunction = "ward_move_gate"
    static let stateTable = "ward_move_state"
    /// A round copies at most this many noted changes; the switch comes once a round finds
    /// fewer than `switchBelow`, so what remains for the held phase is small.
    static let roundSize = 5_000
    static let switchBelow = 500
    static let maximumRounds = 50

    let directory: TenantDirectory
    let shards: ShardSet
    let controlPlane: any Database
    let controlSchema: String?
    let logger: Logger

    /// Moves tenant `slug` to shard `target`. `sourceGrace` is how long the old schema stays
    /// (readable, refusing writes) after the switch before it is dropped.
    package func run(
        _ slug: String, to target: String, sourceGrace: Duration, progress: @Sendable (Progress) -> Void = { _ in }
    ) async throws -> Report {
        let started = ContinuousClock.now
        guard let tenant = try await directory.fetch(slug: slug) else { throw TenantError.notFound(slug) }
        guard [.active, .suspended].contains(tenant.status) else { throw TenantError.wrongState(slug, tenant.status, "moved") }
        guard tenant.shard != target else { throw TenantMoveError.alreadyThere(slug, target) }
        let source = try await shards.cluster(named: tenant.shard), destination = try await shards.cluster(named: target)
        let schema = try SQLIdentifierName.validated(try TenantSlug(slug).schemaName)
        guard try await Migrator(directory.migrations, on: try await directory.migrationTarget(for: tenant)).isCurrent() else {
            throw TenantMoveError.notCurrent(slug)
        }
        let moveID = try await begin(tenant, to: target)
        var capturing = false, copied = false
        do {
            guard try await !Self.schemaExists(schema, on: destination.owner.database) else { throw TenantMoveError.targetOccupied(slug, target) }
            // The copy: schema and tables as this build makes them, owned and granted as a
            // provisioned tenant's are, its triggers off while rows arrive.
            var moved = tenant
            moved.shard = target
            try await destination.owner.database.transaction { db in try await db.raw("CREATE SCHEMA \(ident: schema)").run() }
            copied = true
            try await directory.migrate(moved)
            try await destination.owner.database.transaction { db in try await PostgresSchemaCopy.setTriggers(false, schema: schema, in: db) }

            let tables = try await Self.tables(of: schema, on: source.owner.database)
            try await installCapture(tables, schema: schema, target: target, on: source.owner.database)
            capturing = true
            let rows = try await copySnapshot(tables, schema: schema, from: source.owner.database, to: destination.owner.database, progress: progress)

            var rounds = 0, changes = 0
            while rounds < Self.maximumRounds {
                let taken = try await source.owner.database.transaction { db in
                    try await copyChanges(tables, schema: schema, in: db, to: destination.owner.database)
                }
                rounds += 1
                changes += taken
                progress(.caughtUp(round: rounds, changes: taken))
                if taken < Self.switchBelow { break }
            }
            try await record(moveID, status: "switching", rows: rows + changes)

            let (pause, last) = try await switchOver(tenant, to: target, tables: tables, schema: schema, source: source, destination: destination)
            capturing = false
            copied = false
            try await finish(moveID, status: "done", rows: rows + changes + last, pause: pause, error: nil)
            progress(.switched(pause: pause))
            logger.notice("tenant moved", metadata: [
                "tenant_id": "\(slug)", "from": "\(tenant.shard)", "to": "\(target)", "rows": "\(rows + changes + last)",
                "pause_ms": "\(pause.milliseconds)",
            ])

            // The move is done whatever happens to the old copy now: it refuses writes, and
            // one left behind is only space, named in the log for an operator to drop.
            do {
                try await Task.sleep(for: sourceGrace)
                try await source.owner.database.transaction { db in try await db.raw("DROP SCHEMA \(ident: schema) CASCADE").run() }
                progress(.removedSource)
            } catch {
                logger.warning("tenant move: the old copy was not dropped", metadata: [
                    "tenant_id": "\(slug)", "shard": "\(tenant.shard)", "schema": "\(schema)", "error": "\(PostgresSchemaCopy.describe(error))",
                ])
            }
            return Report(from: tenant.shard, to: target, rowsCopied: rows, changesCopied: changes + last, rounds: rounds,
                          pause: pause, total: ContinuousClock.now - started)
        } catch {
            logger.error("tenant move failed; the tenant stays where it was", metadata: [
                "tenant_id": "\(slug)", "to": "\(target)", "error": "\(PostgresSchemaCopy.describe(error))",
            ])
            if capturing { try? await removeCapture(schema: schema, on: source.owner.database) }
            if copied {
                try? await destination.owner.database.transaction { db in try await db.raw("DROP SCHEMA IF EXISTS \(ident: schema) CASCADE").run() }
            }
            try? await finish(moveID, status: "failed", rows: nil, pause: nil, error: PostgresSchemaCopy.describe(error))
            throw error
        }
    }

    // MARK: The record of moves

    private var moves: SQLQualifiedTable { SQLQualifiedTable("tenant_moves", space: controlSchema) }

    /// Records the move as running; refused while another is (the partial unique index).
    private func begin(_ tenant: Tenant, to target: String) async throws -> String {
        let id = UUIDv7.id(), moves = self.moves
        do {
            try await controlPlane.transaction { db in
                try await db.insert(into: moves).columns("id", "slug", "from_shard", "to_shard", "status", "started_at")
                    .values(SQLBind(id), SQLBind(tenant.slug), SQLBind(tenant.shard), SQLBind(target), SQLBind("copying"), SQLBind(Timestamp.now()))
                    .run()
            }
        } catch where isConstraintConflict(error) {
            let running = try await controlPlane.read { db in
                try await db.raw("SELECT slug FROM \(moves) WHERE finished_at IS NULL").first()?.decode(column: "slug", as: String.self)
            }
            throw TenantMoveError.running(running ?? "another tenant")
        }
        return id
    }

    private func record(_ id: String, status: String, rows: Int) async throws {
        let moves = self.moves
        try await controlPlane.transaction { db in
            try await db.update(moves).set("status", to: status).set("rows_copied", to: rows).where("id", .equal, id).run()
        }
    }

    private func finish(_ id: String, status: String, rows: Int?, pause: Duration?, error: String?) async throws {
        let moves = self.moves
        try await controlPlane.transaction { db in
            let update = db.update(moves).set("status", to: status).set("finished_at", to: Timestamp.now())
            if let rows { update.set("rows_copied", to: rows) }
            if let pause { update.set("pause_ms", to: Int(pause.milliseconds)) }
            if let error { update.set("error", to: String(error.prefix(1_000))) }
            try await update.where("id", .equal, id).run()
        }
    }

    /// Marks a move a crashed process left running as failed, so another may start; its copy
    /// and triggers are removed when the tenant is moved again (`targetOccupied` names them).
    package func abandon() async throws -> String? {
        let moves = self.moves
        return try await controlPlane.transaction { db in
            try await db.raw("""
                UPDATE \(moves) SET status = 'failed', finished_at = \(bind: Timestamp.now()), error = 'abandoned by an operator'
                WHERE finished_at IS NULL RETURNING slug
                """).first()?.decode(column: "slug", as: String.self)
        }
    }

    // MARK: Tables and keys

    static func schemaExists(_ schema: String, on database: any Database) async throws -> Bool {
        try await database.read { db in
            try await db.raw("SELECT 1 AS present FROM pg_namespace WHERE nspname = \(bind: schema)").first() != nil
        }
    }

    /// The schema's tables in load order with their primary keys; a table without one cannot
    /// have its changes followed, and refuses the move.
    static func tables(of schema: String, on database: any Database) async throws -> [Table] {
        try await database.read { db in
            let ordered = try await PostgresSchemaCopy.tables(of: schema, in: db).filter { ![changesTable, stateTable].contains($0.name) }
            let rows = try await db.raw("""
                SELECT c.relname AS name, string_agg(a.attname, ',' ORDER BY array_position(i.indkey::int2[], a.attnum)) AS key
                FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey::int2[])
                WHERE i.indisprimary AND n.nspname = \(bind: schema) GROUP BY c.relname
                """).all()
            var keys: [String: [String]] = [:]
            for row in rows {
                keys[try row.decode(column: "name", as: String.self)] = try row.decode(column: "key", as: String.self).split(separator: ",").map(String.init)
            }
            return try ordered.map { table in
                guard let key = keys[table.name] else { throw TenantMoveError.noPrimaryKey(table.name) }
                return Table(name: try SQLIdentifierName.validated(table.name), columns: try table.columns.map(SQLIdentifierName.validated),
                             key: try key.map(SQLIdentifierName.validated))
            }
        }
    }

    // MARK: Following changes

    /// The change log, the gate's state, their trigger functions (run as the owner, so the
    /// serving role needs no grant on either), and on every table two triggers: one noting each
    /// changed row's key (the old key of an update or delete, the new key of an insert or
    /// update), and the gate every writing statement passes (`switchOver`). Each table's
    /// triggers are made in a transaction of their own: taking every table's lock in one would
    /// deadlock with a writer holding one table and waiting for another.
    private func installCapture(_ tables: [Table], schema: String, target: String, on database: any Database) async throws {
        let log = "\"\(schema)\".\"\(Self.changesTable)\"", state = "\"\(schema)\".\"\(Self.stateTable)\""
        let capture = "\"\(schema)\".\"\(Self.captureFunction)\"", gate = "\"\(schema)\".\"\(Self.gateFunction)\""
        try await database.transaction { db in
            try await db.raw(Self.sql("""
                CREATE TABLE \(log) (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, table_name TEXT NOT NULL, key JSONB NOT NULL)
                """)).run()
            try await db.raw(Self.sql("CREATE TABLE \(state) (moved BOOLEAN NOT NULL, target TEXT NOT NULL)")).run()
            try await db.raw(SQLQueryString("INSERT INTO \(unsafeRaw: state) (moved, target) VALUES (false, \(bind: target))")).run()
            try await db.raw(Self.sql("""
                CREATE FUNCTION \(capture)() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
                BEGIN
                    IF TG_OP IN ('UPDATE', 'DELETE') THEN
                        INSERT INTO \(log) (table_name, key) SELECT TG_TABLE_NAME, jsonb_object_agg(a, to_jsonb(OLD) -> a) FROM unnest(TG_ARGV) a;
                    END IF;
                    IF TG_OP IN ('INSERT', 'UPDATE') THEN
                        INSERT INTO \(log) (table_name, key) SELECT TG_TABLE_NAME, jsonb_object_agg(a, to_jsonb(NEW) -> a) FROM unnest(TG_ARGV) a;
                    END IF;
                    RETURN NULL;
                END $f$
                """)).run()
            // Every writing statement takes the gate's lock shared, then reads whether the tenant
            // moved: the switch holds the lock alone while it finishes, and a writer let through
            // after it finds the tenant gone and is refused (SQLSTATE WMOVD).
            try await db.raw(Self.sql("""
                CREATE FUNCTION \(gate)() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
                BEGIN
                    PERFORM pg_advisory_xact_lock_shared(hashtext('ward move \(schema)'));
                    IF (SELECT moved FROM \(state)) THEN
                        RAISE EXCEPTION 'tenant moved to shard %', (SELECT target FROM \(state)) USING ERRCODE = '\(TenantMoved.sqlState)';
                    END IF;
                    RETURN NULL;
                END $f$
                """)).run()
        }
        for table in tables {
            let arguments = table.key.map { "'\($0)'" }.joined(separator: ", ")
            try await withLockRetries(on: database) { db in
                try await db.raw(Self.sql("""
                    CREATE TRIGGER \(Self.captureFunction) AFTER INSERT OR UPDATE OR DELETE ON "\(schema)"."\(table.name)"
                    FOR EACH ROW EXECUTE FUNCTION \(capture)(\(arguments))
                    """)).run()
                try await db.raw(Self.sql("""
                    CREATE TRIGGER \(Self.gateFunction) BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON "\(schema)"."\(table.name)"
                    FOR EACH STATEMENT EXECUTE FUNCTION \(gate)()
                    """)).run()
            }
        }
    }

    /// Runs `work` in a transaction that waits at most a second for a table's lock, again after
    /// a deadlock or a lock timeout, up to ten times.
    private func withLockRetries(on database: any Database, _ work: @escaping @Sendable (any SQLDatabase) async throws -> Void) async throws {
        for attempt in 1... {
            do {
                try await database.transaction { db in
                    try await db.raw("SET LOCAL lock_timeout = '1s'").run()
                    try await work(db)
                }
                return
            } catch where attempt < 10 && Self.isLockConflict(error) {
                try await Task.sleep(for: .milliseconds(20 * attempt))
            }
        }
    }

    /// A deadlock (40P01) or a lock not granted in time (55P03).
    static func isLockConflict(_ error: any Error) -> Bool {
        let text = String(reflecting: error)
        return text.contains("sqlState: 40P01") || text.contains("sqlState: 55P03")
    }

    private func removeCapture(schema: String, on database: any Database) async throws {
        try await database.transaction { db in
            try await db.raw("SET LOCAL lock_timeout = '5s'").run()
            try await db.raw(Self.sql("DROP FUNCTION IF EXISTS \"\(schema)\".\"\(Self.captureFunction)\"() CASCADE")).run()
            try await db.raw(Self.sql("DROP FUNCTION IF EXISTS \"\(schema)\".\"\(Self.gateFunction)\"() CASCADE")).run()
            try await db.raw(Self.sql("DROP TABLE IF EXISTS \"\(schema)\".\"\(Self.changesTable)\", \"\(schema)\".\"\(Self.stateTable)\"")).run()
        }
    }

    // MARK: Copying

    /// Copies every table as one repeatable-read snapshot of the source; returns the rows.
    private func copySnapshot(
        _ tables: [Table], schema: String, from source: any Database, to target: any Database, progress: @Sendable (Progress) -> Void
    ) async throws -> Int {
        // What the migrations seeded in the copy (built-in roles, counters) gives way to the rows.
        try await target.transaction { target in
            for table in tables.reversed() { try await PostgresSchemaCopy.empty(table.copy, schema: schema, in: target) }
        }
        return try await source.transaction { db in
            try await db.raw("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").run()
            try await db.raw("SET LOCAL statement_timeout = 0").run()
            var total = 0
            for table in tables {
                let rows = try await db.raw(Self.sql("SELECT row_to_json(t)::text AS row FROM \"\(schema)\".\"\(table.name)\" t")).all()
                    .map { try $0.decode(column: "row", as: String.self) }
                try await target.transaction { target in
                    try await target.raw("SET LOCAL statement_timeout = 0").run()
                    for start in stride(from: 0, to: rows.count, by: 500) {
                        try await PostgresSchemaCopy.load(Array(rows[start..<min(start + 500, rows.count)]), into: table.copy, schema: schema,
                                                          present: table.copy, in: target)
                    }
                }
                total += rows.count
                progress(.copied(table: table.name, rows: rows.count))
            }
            return total
        }
    }

    /// In the source's open transaction `db`: takes up to `roundSize` noted changes, reads the
    /// rows they name as they are now, and makes the target match (rows present upserted in load
    /// order, rows gone deleted in reverse). The target commits first; the noted changes are
    /// gone only when the source's transaction commits too, so a round cut short is copied again.
    private func copyChanges(_ tables: [Table], schema: String, in db: any SQLDatabase, to target: any Database) async throws -> Int {
        let log = "\"\(schema)\".\"\(Self.changesTable)\""
        let taken = try await db.raw(Self.sql("""
            DELETE FROM \(log) WHERE seq IN (SELECT seq FROM \(log) ORDER BY seq LIMIT \(Self.roundSize))
            RETURNING table_name, key::text AS key
            """)).all()
        guard !taken.isEmpty else { return 0 }
        var keys: [String: Set<String>] = [:]
        for row in taken { keys[try row.decode(column: "table_name", as: String.self), default: []].insert(try row.decode(column: "key", as: String.self)) }
        var present: [(Table, [String])] = [], gone: [(Table, String)] = []
        for table in tables {
            guard let tableKeys = keys[table.name] else { continue }
            let qualified = "\"\(schema)\".\"\(table.name)\""
            let array = "[" + tableKeys.sorted().joined(separator: ",") + "]"
            let using = table.key.map { "\"\($0)\"" }.joined(separator: ", ")
            let rows = try await db.raw(SQLQueryString("""
                SELECT row_to_json(t)::text AS row FROM \(unsafeRaw: qualified) t
                JOIN jsonb_populate_recordset(NULL::\(unsafeRaw: qualified), \(bind: array)::jsonb) k USING (\(unsafeRaw: using))
                """)).all().map { try $0.decode(column: "row", as: String.self) }
            present.append((table, rows))
            let match = table.key.map { "t.\"\($0)\" = k.\"\($0)\"" }.joined(separator: " AND ")
            let missing = try await db.raw(SQLQueryString("""
                SELECT COALESCE(json_agg(row_to_json(k)), '[]')::text AS keys FROM jsonb_populate_recordset(NULL::\(unsafeRaw: qualified), \(bind: array)::jsonb) k
                WHERE NOT EXISTS (SELECT 1 FROM \(unsafeRaw: qualified) t WHERE \(unsafeRaw: match))
                """)).first()?.decode(column: "keys", as: String.self) ?? "[]"
            if missing != "[]" { gone.append((table, missing)) }
        }
        try await target.transaction { [present, gone] target in
            for (table, rows) in present where !rows.isEmpty {
                try await Self.upsert(rows, into: table, schema: schema, in: target)
            }
            for (table, keys) in gone.reversed() {
                let qualified = "\"\(schema)\".\"\(table.name)\""
                let match = table.key.map { "t.\"\($0)\" = k.\"\($0)\"" }.joined(separator: " AND ")
                try await target.raw(SQLQueryString("""
                    DELETE FROM \(unsafeRaw: qualified) t USING json_populate_recordset(NULL::\(unsafeRaw: qualified), \(bind: keys)::json) k
                    WHERE \(unsafeRaw: match)
                    """)).run()
            }
        }
        return taken.count
    }

    /// Inserts `rows` (JSON objects) into the target's table, updating those whose key is there.
    static func upsert(_ rows: [String], into table: Table, schema: String, in db: any SQLDatabase) async throws {
        let qualified = "\"\(schema)\".\"\(table.name)\""
        let columns = table.columns.map { "\"\($0)\"" }.joined(separator: ", ")
        let key = table.key.map { "\"\($0)\"" }.joined(separator: ", ")
        let updates = table.columns.filter { !table.key.contains($0) }.map { "\"\($0)\" = EXCLUDED.\"\($0)\"" }
        let action = updates.isEmpty ? "DO NOTHING" : "DO UPDATE SET " + updates.joined(separator: ", ")
        for start in stride(from: 0, to: rows.count, by: 500) {
            let array = "[" + rows[start..<min(start + 500, rows.count)].joined(separator: ",") + "]"
            try await db.raw(SQLQueryString("""
                INSERT INTO \(unsafeRaw: qualified) (\(unsafeRaw: columns)) OVERRIDING SYSTEM VALUE
                SELECT \(unsafeRaw: columns) FROM json_populate_recordset(NULL::\(unsafeRaw: qualified), \(bind: array)::json)
                ON CONFLICT (\(unsafeRaw: key)) \(unsafeRaw: action)
                """)).run()
        }
    }

    // MARK: The switch

    /// Holds writes (the gate's lock, taken alone: writers in flight finish first, the next
    /// wait at their first write), copies what is left, and marks the old schema moved before
    /// letting the writers through, which then fail there and run again on the new shard once
    /// the control plane points at it; returns how long writes were held and the changes copied.
    private func switchOver(
        _ tenant: Tenant, to target: String, tables: [Table], schema: String, source: ShardSet.Cluster, destination: ShardSet.Cluster
    ) async throws -> (pause: Duration, changes: Int) {
        let state = "\"\(schema)\".\"\(Self.stateTable)\""
        let (pauseStarted, changes) = try await source.owner.database.transaction { db -> (ContinuousClock.Instant, Int) in
            try await db.raw("SET LOCAL statement_timeout = 0").run()
            // A writer holding its transaction open for long makes the switch wait at most this,
            // then fail (and the move with it, the tenant left where it was).
            try await db.raw("SET LOCAL lock_timeout = '10s'").run()
            try await db.raw(Self.sql("SELECT pg_advisory_xact_lock(hashtext('ward move \(schema)'))")).run()
            let pauseStarted = ContinuousClock.now
            var copied = 0
            while true {
                let taken = try await copyChanges(tables, schema: schema, in: db, to: destination.owner.database)
                copied += taken
                if taken < Self.roundSize { break }
            }
            try await verifyCounts(tables, schema: schema, source: db, target: destination.owner.database)
            // The copy serves from now on: its triggers on, its sequences past its rows, its
            // grants as the migrations give them.
            try await destination.owner.database.transaction { target in
                try await PostgresSchemaCopy.setTriggers(true, schema: schema, in: target)
                try await PostgresSchemaCopy.resetSequences(of: schema, in: target)
            }
            var moved = tenant
            moved.shard = target
            try await Migrator(directory.migrations, on: try await directory.migrationTarget(for: moved)).grantServingAccess()
            try await db.raw(Self.sql("UPDATE \(state) SET moved = true")).run()
            return (pauseStarted, copied)
        }
        // The old schema refuses writes; until the control plane points at the new one, writers
        // wait in `relocation`. A failure here leaves the tenant refusing writes: retried.
        var attempt = 0
        while true {
            do {
                try await directory.setShard(tenant.slug, to: target)
                break
            } catch {
                attempt += 1
                logger.error("tenant move: pointing the tenant at its new shard failed; trying again", metadata: [
                    "tenant_id": "\(tenant.slug)", "error": "\(error)",
                ])
                if attempt >= 20 { throw error }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        return (ContinuousClock.now - pauseStarted, changes)
    }

    /// Compares every table's row count on both sides (in the source's locked transaction).
    private func verifyCounts(_ tables: [Table], schema: String, source: any SQLDatabase, target: any Database) async throws {
        @Sendable func counts(_ db: any SQLDatabase) async throws -> [String: Int] {
            let union = tables.map { "SELECT '\($0.name)' AS name, count(*) AS n FROM \"\(schema)\".\"\($0.name)\"" }.joined(separator: " UNION ALL ")
            var counts: [String: Int] = [:]
            for row in try await db.raw(SQLQueryString(union)).all() {
                counts[try row.decode(column: "name", as: String.self)] = try row.decode(column: "n", as: Int.self)
            }
            return counts
        }
        let here = try await counts(source)
        let there = try await target.read { try await counts($0) }
        for table in tables where here[table.name] != there[table.name] {
            throw TenantMoveError.countsDiffer(table.name, here[table.name] ?? 0, there[table.name] ?? 0)
        }
    }
}

extension TenantMove {
    /// SQL text built from validated identifiers (schema, table and column names, checked
    /// against `SQLIdentifierName`'s pattern) and constants; every value is bound.
    static func sql(_ text: String) -> SQLQueryString { SQLQueryString(text) }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1_000 + components.attoseconds / 1_000_000_000_000_000 }
}

/// Why a tenant could not be moved; its text is for an operator.
package enum TenantMoveError: Error, CustomStringConvertible {
    case alreadyThere(String, String)
    case running(String)
    case notCurrent(String)
    case targetOccupied(String, String)
    case noPrimaryKey(String)
    case countsDiffer(String, Int, Int)

    package var description: String {
        switch self {
        case .alreadyThere(let slug, let shard): "tenant \(slug) is on \(shard) already"
        case .running(let slug): "a move is running (tenant \(slug)); one moves at a time (`ward tenant move --abandon` after a crash)"
        case .notCurrent(let slug): "tenant \(slug) has pending migrations: run `ward migrate` first"
        case .targetOccupied(let slug, let shard): "shard \(shard) has a schema for \(slug) already (left by a move that did not finish?); drop it there first"
        case .noPrimaryKey(let table): "table \(table) has no primary key, so its changes cannot be followed"
        case .countsDiffer(let table, let here, let there): "table \(table) has \(here) rows on the old shard but \(there) on the new one"
        }
    }
}
