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

    /// A migration whose statements are the same in both dialects.
    package init(_ version: Int, _ name: String, _ statements: [String]) {
        self.init(version, name, sqlite: statements, postgres: statements)
    }

    /// A migration with dialect-specific statements.
    package init(_ version: Int, _ name: String, sqlite: [String], postgres: [String]) {
        self.version = version
        self.name = name
        self.sqlite = sqlite
        self.postgres = postgres
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
}
