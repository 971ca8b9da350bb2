import Crypto
import Foundation

/// One versioned change to a database's schema. Statements are listed one per string (SQLite
/// and PostgreSQL's extended protocol run one statement per call); where the dialects differ,
/// each gets its own list.
package struct Migration: Sendable {
    /// Position in its plane's order; never reused or renumbered once released.
    package let version: Int
    /// What the migration does, in snake case (`create_tenants`).
    package let name: String
    private let sqlite: [String]
    private let postgres: [String]
    /// Why the previous release cannot run on the schema once this has run (it drops, renames
    /// or tightens what that release uses); nil for an expanding migration, which only adds.
    /// Releases ship expand-then-contract: what a release stops using is removed by a later
    /// release's contracting migration, so a rolling deploy needs no down-migrations.
    package let contracts: String?
    /// Tables this migration creates that the serving role may do less with than read and write
    /// (PostgreSQL with separate roles; see `ServingAccess`).
    package let serving: [ServingAccess]

    /// A migration whose statements are the same in both dialects.
    package init(_ version: Int, _ name: String, _ statements: [String], contracts: String? = nil, serving: [ServingAccess] = []) {
        self.init(version, name, sqlite: statements, postgres: statements, contracts: contracts, serving: serving)
    }

    /// A migration with dialect-specific statements.
    package init(
        _ version: Int, _ name: String, sqlite: [String], postgres: [String], contracts: String? = nil, serving: [ServingAccess] = []
    ) {
        self.version = version
        self.name = name
        self.sqlite = sqlite
        self.postgres = postgres
        self.contracts = contracts
        self.serving = serving
    }

    /// The statements that break the previous release's use of the schema: dropping or
    /// renaming a table or column, changing a column's type, making one NOT NULL (also a new
    /// column without a default), deleting or truncating rows. A migration with any must say
    /// so (`contracts`); a test holds every shipped migration to it. Dropping an index or a
    /// trigger, adding tables, columns with defaults, indexes and backfills all expand.
    package func contractingStatements() -> [String] {
        (sqlite + postgres).filter { statement in
            let text = statement.uppercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
            let always = ["DROP TABLE", "DROP COLUMN", "DROP VIEW", "DROP SCHEMA", "RENAME TO", "RENAME COLUMN", "TRUNCATE", "DELETE FROM"]
            if always.contains(where: text.contains) { return true }
            if text.contains("ALTER COLUMN"), text.contains(" TYPE ") || text.contains("SET NOT NULL") { return true }
            if text.contains("ADD COLUMN"), text.contains("NOT NULL"), !text.contains("DEFAULT") { return true }
            return false
        }
    }

    /// The statements to run on `dialect`.
    package func statements(for dialect: Dialect) -> [String] {
        dialect == .sqlite ? sqlite : postgres
    }

    /// SHA-256 of the statements as run on `dialect`: an applied migration whose text later
    /// changes is detected by comparing this with the recorded value.
    package func checksum(for dialect: Dialect) -> String {
        let text = statements(for: dialect).joined(separator: ";\n")
        return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// What the role serving requests may do with a table, where that is less than reading and
/// writing its rows. On PostgreSQL with a schema owner (`DATABASE_OWNER_URL`) the owner applies
/// migrations and grants the serving role (`DATABASE_URL`) the rest: it cannot create, alter
/// or drop anything, and these tables hold it to less, whatever a trigger says.
package enum ServingAccess: Sendable, Equatable {
    /// Rows are read and added, never changed or removed (the audit trail).
    case appendOnly(String)
    /// Rows are only read (what the owner alone maintains).
    case readOnly(String)

    package var table: String {
        switch self {
        case .appendOnly(let table), .readOnly(let table): table
        }
    }

    /// The privileges taken back from the serving role after granting it read and write.
    var revoked: String {
        switch self {
        case .appendOnly: "UPDATE, DELETE, TRUNCATE"
        case .readOnly: "INSERT, UPDATE, DELETE, TRUNCATE"
        }
    }
}

/// The ordered migrations of one plane: the control plane or every tenant's database.
package struct MigrationSet: Sendable {
    /// `platform` or `tenant`, for messages.
    package let plane: String
    package let migrations: [Migration]

    /// Builds the set; versions must be unique (a programming error otherwise).
    package init(plane: String, _ migrations: [Migration]) {
        let sorted = migrations.sorted { $0.version < $1.version }
        precondition(Set(sorted.map(\.version)).count == sorted.count, "duplicate \(plane) migration version")
        self.plane = plane
        self.migrations = sorted
    }

    /// The serving role's limits over every table of the plane, the migrations' record included.
    package var serving: [ServingAccess] {
        [.readOnly(Migrator.recordTable)] + migrations.flatMap(\.serving)
    }
}
