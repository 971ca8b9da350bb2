import Foundation
import WardCore
import SQLKit

/// A migration's state in one database.
package enum MigrationStatus: Sendable, Equatable {
    case applied
    case pending
}

/// What `Migrator` refuses to do.
package enum MigrationError: Error, CustomStringConvertible, Equatable {
    /// An applied migration's text differs from the one this build ships.
    case changedAfterApply(target: String, version: Int, name: String)
    /// The database holds a migration this build does not know: it was written by a newer
    /// build (`appliedBy`, when the record says which).
    case unknownApplied(target: String, version: Int, name: String, appliedBy: String?)

    package var description: String {
        switch self {
        case .changedAfterApply(let target, let version, let name):
            "migration \(version) \(name) in \(target) was changed after it was applied; restore its original text and add a new migration instead"
        case .unknownApplied(let target, let version, let name, let appliedBy):
            "\(target) has migration \(version) \(name) applied by \(appliedBy.map { "Ward \($0)" } ?? "a newer build"); this is Ward \(WardBuild.version), which does not know it: run a build at least as new"
        }
    }
}

/// Where a set of migrations runs: a database and, on PostgreSQL, the schema.
package struct MigrationTarget: Sendable {
    package let database: any Database
    /// The PostgreSQL schema (validated); nil for SQLite, where each target is its own file.
    package let schema: String?
    /// A name for messages (`platform`, `tenant acme`).
    package let label: String
    /// The role serving requests, when another role (this target's database's) owns the schema:
    /// migrations grant it access to what they create (PostgreSQL only).
    package let servingRole: String?
    /// What keeps a SQLite tenant's file open while the target is in use (its scope's hold):
    /// a file let go of is closed once nothing holds it.
    let hold: FileHold?

    package init(database: any Database, schema: String?, label: String, servingRole: String? = nil) {
        self.init(database: database, schema: schema, label: label, servingRole: servingRole, hold: nil)
    }

    init(database: any Database, schema: String?, label: String, servingRole: String?, hold: FileHold?) {
        self.database = database
        self.schema = schema
        self.label = label
        self.servingRole = servingRole
        self.hold = hold
    }
}

/// Applies a `MigrationSet` to a target: each migration in its own transaction together with
/// its record (version, name, checksum, time), so a crash leaves it either applied and
/// recorded or not at all.
package struct Migrator: Sendable {
    package let set: MigrationSet
    package let target: MigrationTarget

    package init(_ set: MigrationSet, on target: MigrationTarget) {
        self.set = set
        self.target = target
    }

    package static let recordTable = "ward_migrations"

    /// Each known migration with its status; throws if an applied one changed or is unknown.
    package func status() async throws -> [(migration: Migration, status: MigrationStatus)] {
        let applied = try await appliedRecords()
        let dialect = target.database.dialect
        let known = Dictionary(uniqueKeysWithValues: set.migrations.map { ($0.version, $0) })
        for record in applied.values.sorted(by: { $0.version < $1.version }) {
            guard let migration = known[record.version] else {
                // A newer build's migration that only expanded the schema (so recorded by it)
                // leaves everything this build uses in place: the previous release runs on, and
                // rolling back is starting it. One that contracted, or of a build that did not
                // record which, is refused.
                if record.expands == true { continue }
                throw MigrationError.unknownApplied(target: target.label, version: record.version, name: record.name, appliedBy: record.wardVersion)
            }
            if migration.checksum(for: dialect) != record.checksum {
                throw MigrationError.changedAfterApply(target: target.label, version: record.version, name: migration.name)
            }
        }
        return set.migrations.map { ($0, applied[$0.version] == nil ? .pending : .applied) }
    }

    /// The migrations `apply` would run, in order.
    package func plan() async throws -> [Migration] {
        try await status().filter { $0.status == .pending }.map(\.migration)
    }

    /// Applies every pending migration and returns those it applied. Safe to run from several
    /// nodes at once: on PostgreSQL each migration holds an advisory lock and re-checks. With
    /// `together`, all pending migrations share one transaction (one commit instead of one per
    /// migration): for a database being created, where all or nothing is the right outcome.
    @discardableResult
    package func apply(together: Bool = false) async throws -> [Migration] {
        try await ensureRecordTable()
        let pending = try await plan()
        if together {
            return try await run(pending)
        }
        var applied: [Migration] = []
        for migration in pending {
            applied += try await run([migration])
        }
        return applied
    }

    /// The versions applied to the target (a backup's record of the schema it was taken at).
    package func appliedVersions() async throws -> [Int] {
        try await status().filter { $0.status == .applied }.map(\.migration.version)
    }

    /// Applies, in one transaction, those pending migrations whose version is in `versions`:
    /// a database restored from a copy is first brought to exactly the copy's schema.
    @discardableResult
    package func apply(only versions: Set<Int>) async throws -> [Migration] {
        try await ensureRecordTable()
        return try await run(try await plan().filter { versions.contains($0.version) })
    }

    /// Runs `migrations` in one transaction under the target's lock, skipping any another node
    /// applied meanwhile; returns those run here.
    private func run(_ migrations: [Migration]) async throws -> [Migration] {
        guard !migrations.isEmpty else { return [] }
        let dialect = target.database.dialect
        let label = target.label
        return try await target.database.transaction(searchPath: target.schema) { database in
            if dialect == .postgres {
                try await database.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: "ward.migrate." + label)))").run()
            }
            var ran: [Migration] = []
            for migration in migrations {
                let already = try await database.raw(
                    "SELECT version FROM \(unsafeRaw: Self.recordTable) WHERE version = \(bind: migration.version)"
                ).first()
                if already != nil { continue }
                for statement in migration.statements(for: dialect) {
                    try await database.raw(SQLQueryString(statement)).run()
                }
                try await database.raw("""
                    INSERT INTO \(unsafeRaw: Self.recordTable) (version, name, checksum, applied_at, ward_version, expands)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: migration.checksum(for: dialect)), \(bind: Timestamp.now()),
                            \(bind: WardBuild.version), \(bind: migration.contracts == nil))
                    """).run()
                ran.append(migration)
            }
            if !ran.isEmpty { try await grantServing(in: database) }
            return ran
        }
    }

    /// Gives the serving role its access to the target's schema again (`ward migrate` does, so
    /// a schema made before the roles were split, or by hand, is put right).
    package func grantServingAccess() async throws {
        try await target.database.transaction(searchPath: target.schema) { database in try await grantServing(in: database) }
    }

    /// The serving role's access to the schema, where another role owns it (PostgreSQL): use of
    /// the schema, read and write on every table and sequence in it, less where the plane says
    /// so (`ServingAccess`), nothing for PUBLIC. Nothing to create, alter or drop: that needs
    /// the owner. Idempotent; runs in the transaction that migrated, so a new table is never
    /// seen without its grants.
    private func grantServing(in database: any SQLDatabase) async throws {
        guard target.database.dialect == .postgres, let role = target.servingRole, let schema = target.schema else { return }
        let space = try SQLIdentifierName.validated(schema), grantee = try SQLIdentifierName.validated(role)
        for statement in [
            "REVOKE ALL ON SCHEMA \(space) FROM PUBLIC",
            "GRANT USAGE ON SCHEMA \(space) TO \(grantee)",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA \(space) TO \(grantee)",
            "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA \(space) TO \(grantee)",
        ] {
            try await database.raw(SQLQueryString(statement)).run()
        }
        let tables = Set(try await database.raw("SELECT tablename FROM pg_tables WHERE schemaname = \(bind: schema)").all()
            .map { try $0.decode(column: "tablename", as: String.self) })
        for access in set.serving where tables.contains(access.table) {
            let table = try SQLIdentifierName.validated(access.table)
            try await database.raw(SQLQueryString("REVOKE \(access.revoked) ON \(space).\(table) FROM \(grantee)")).run()
        }
    }

    /// Whether nothing is pending (and nothing applied has changed).
    package func isCurrent() async throws -> Bool {
        try await plan().isEmpty
    }

    private struct Record { var version: Int; var name: String; var checksum: String; var wardVersion: String?; var expands: Bool? }

    private func appliedRecords() async throws -> [Int: Record] {
        let schema = target.schema
        let rows = try await target.database.transaction(searchPath: schema) { database -> [Record] in
            guard try await Self.recordTableExists(database, dialect: target.database.dialect, schema: schema) else { return [] }
            // Records made before the build was recorded have no `ward_version` column yet.
            return try await database.raw("SELECT * FROM \(unsafeRaw: Self.recordTable) ORDER BY version")
                .all().map { row in
                    Record(
                        version: try row.decode(column: "version", as: Int.self),
                        name: try row.decode(column: "name", as: String.self),
                        checksum: try row.decode(column: "checksum", as: String.self),
                        wardVersion: row.contains(column: "ward_version") ? try row.decode(column: "ward_version", as: String?.self) : nil,
                        expands: row.contains(column: "expands") ? try row.decode(column: "expands", as: Bool?.self) : nil
                    )
                }
        }
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.version, $0) })
    }

    private static func recordTableExists(_ database: any SQLDatabase, dialect: Dialect, schema: String?) async throws -> Bool {
        switch dialect {
        case .sqlite:
            return try await database.raw(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = \(bind: recordTable)"
            ).first() != nil
        case .postgres:
            return try await database.raw(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = \(bind: schema ?? "public") AND table_name = \(bind: recordTable)"
            ).first() != nil
        }
    }

    private func ensureRecordTable() async throws {
        let schema = target.schema
        let dialect = target.database.dialect
        try await target.database.transaction(searchPath: schema) { database in
            if dialect == .postgres, let schema {
                try await database.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: "ward.schema." + schema)))").run()
                try await database.raw("CREATE SCHEMA IF NOT EXISTS \(ident: try SQLIdentifierName.validated(schema))").run()
            }
            try await database.raw("""
                CREATE TABLE IF NOT EXISTS \(unsafeRaw: Self.recordTable) (
                    version INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    checksum TEXT NOT NULL,
                    applied_at TEXT NOT NULL,
                    ward_version TEXT,
                    expands BOOLEAN
                )
                """).run()
            // Which build applied each migration, so a node refusing a newer schema names it;
            // added to record tables made before it was kept.
            let recorded: Bool
            switch dialect {
            case .sqlite:
                recorded = try await database.raw("SELECT 1 AS present FROM pragma_table_info(\(bind: Self.recordTable)) WHERE name = 'ward_version'").first() != nil
            case .postgres:
                recorded = try await database.raw("""
                    SELECT 1 AS present FROM information_schema.columns
                    WHERE table_schema = \(bind: schema ?? "public") AND table_name = \(bind: Self.recordTable) AND column_name = 'ward_version'
                    """).first() != nil
            }
            if !recorded {
                try await database.raw("ALTER TABLE \(unsafeRaw: Self.recordTable) ADD COLUMN ward_version TEXT").run()
                try await database.raw("ALTER TABLE \(unsafeRaw: Self.recordTable) ADD COLUMN expands BOOLEAN").run()
            }
        }
    }
}
