package import Foundation
package import Logging
import SQLKit
package import WardCore
package import WardStorage

/// The databases every storage and tenancy test runs against.
package enum TestBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres
    package var description: String { rawValue }
    /// Whether this run leaves the backend's cases out (`WARD_TEST_ONLY_POSTGRES=1`: the run
    /// through PgBouncer, after one that ran them): a test that hands state from one site to
    /// the next returns at once rather than find the first site's state missing.
    package var leftOut: Bool { self == .sqlite && ProcessInfo.processInfo.environment["WARD_TEST_ONLY_POSTGRES"] == "1" }
}

/// Thrown when a PostgreSQL test has no server and the run did not opt out: it fails, never skips.
package struct PostgresUnavailable: Error, CustomStringConvertible {
    package let description: String
}

/// A place for one test's data: a temporary directory and, for PostgreSQL, a database of its
/// own created on the test server and dropped afterwards.
package struct TestSite: Sendable {
    package let backend: TestBackend
    package let directory: String
    /// The test database's URL (PostgreSQL only).
    package let databaseURL: String?
    /// The name of the test database (PostgreSQL only).
    package let databaseName: String?

    /// Settings for a node on this site; `extra` overrides by environment variable name.
    package func settings(_ extra: [String: String] = [:]) throws -> WardSettings {
        // bcrypt at cost 4 keeps tests fast; production refuses less than 10. Readiness checks
        // get 30 s: tests look at their answers, and the parallel suite on two cores has taken
        // the migrations check past the default three seconds.
        var given: [Setting: String] = [
            .dataDirectory: directory, .httpPort: "0", .secretKey: "test-secret-key-0123456789-abcdefghijklmnop", .bcryptCost: "4",
            .readinessCheckTimeout: "30",
            // A test makes hundreds of requests a second as one user from one address; the
            // limits are tested by the tests that set them.
            .rateLimits: "address=off,user=off,session=off,platform=off,export=off,upload=off",
        ]
        if let databaseURL {
            given[.databaseURL] = databaseURL
            given[.databaseConnectTimeout] = "2"
            // PgBouncer 1.18 (Debian 12's) keeps no prepared statement across transactions.
            if TestPostgresServer.throughPgBouncer { given[.databasePreparedStatements] = "false" }
        }
        for (name, value) in extra {
            guard let setting = Setting.all.first(where: { $0.environmentVariable == name }) else {
                fatalError("unknown setting \(name)")
            }
            given[setting] = value
        }
        return try WardSettings(given: given)
    }

    /// Runs `body` with storage opened as `storage(tenantMigrations:settings:)` does, closing
    /// it afterwards whether `body` returns or throws.
    @discardableResult
    package func withStorage<Result>(
        platformMigrations: [Migration] = [], tenantMigrations: [Migration] = [], settings: WardSettings? = nil,
        _ body: (Storage) async throws -> Result
    ) async throws -> Result {
        let storage = try await storage(platformMigrations: platformMigrations, tenantMigrations: tenantMigrations, settings: settings)
        do {
            let result = try await body(storage)
            await storage.shutdown()
            return result
        } catch {
            await storage.shutdown()
            throw error
        }
    }

    /// Runs `body` with a migration target of its own: a separate SQLite file, or schema
    /// `scratch` in the site's PostgreSQL database. `connections` opens that many handles on
    /// the same target, as several nodes would.
    package func withScratchTargets(_ connections: Int = 1, _ body: ([MigrationTarget]) async throws -> Void) async throws {
        var databases: [any Database] = []
        do {
            for _ in 0..<connections {
                if let databaseURL {
                    databases.append(try PostgresDatabase(url: databaseURL, limits: .init(maximumConnections: 2, connectTimeout: .seconds(5)), logger: TestLogs.quiet))
                } else {
                    databases.append(try await SQLiteDatabase.open(path: directory + "/scratch.sqlite", readerCount: 1, logger: TestLogs.quiet))
                }
            }
            try await body(databases.map { MigrationTarget(database: $0, schema: databaseURL == nil ? nil : "scratch", label: "scratch") })
        } catch {
            for database in databases { await database.shutdown() }
            throw error
        }
        for database in databases { await database.shutdown() }
    }

    /// Opens storage with `tenantMigrations` and migrates the control plane.
    package func storage(platformMigrations: [Migration] = [], tenantMigrations: [Migration] = [], settings: WardSettings? = nil) async throws -> Storage {
        let storage = try await Storage(
            settings: settings ?? self.settings(), platformMigrations: platformMigrations, tenantMigrations: tenantMigrations, logger: TestLogs.quiet
        )
        do {
            try await storage.controlPlaneMigrator.apply()
        } catch {
            await storage.shutdown()
            throw error
        }
        return storage
    }
}

/// Loggers for tests: quiet unless a test captures what is written.
package enum TestLogs {
    package static let quiet = Logger(label: "ward.test") { label in
        JSONLogHandler(label: label, level: .critical, sink: CapturingSink())
    }

    /// A logger writing JSON lines into `sink` at info level.
    package static func capturing(_ sink: CapturingSink, label: String = "ward.test") -> Logger {
        Logger(label: label) { label in JSONLogHandler(label: label, level: .info, sink: sink) }
    }
}

/// Runs `body` on a fresh site of `backend`, then removes the site. A PostgreSQL case with no
/// server configured fails, locally as in CI, unless the run opted out with
/// `WARD_TEST_POSTGRES=skip` (then it returns without running `body`).
/// `WARD_TEST_ONLY_POSTGRES=1` leaves the SQLite cases out (scripts/test's second run, through
/// PgBouncer, after a first that ran them).
package func withTestSite(_ backend: TestBackend, _ body: (TestSite) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("ward-test-\(UUID().uuidString.prefix(8).lowercased())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    switch backend {
    case .sqlite:
        // The run through PgBouncer repeats the PostgreSQL cases only.
        if backend.leftOut { return }
        try await body(TestSite(backend: .sqlite, directory: directory, databaseURL: nil, databaseName: nil))
    case .postgres:
        guard let server = try TestPostgresServer.fromEnvironment() else { return }
        let name = "ward_test_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        try await server.createDatabase(name)
        do {
            try await body(TestSite(backend: .postgres, directory: directory, databaseURL: server.nodeURL(database: name), databaseName: name))
        } catch {
            try? await server.dropDatabase(name)
            throw error
        }
        try await server.dropDatabase(name)
    }
}

/// Runs `body` on a PostgreSQL site set up as deploy/postgres/roles.sql sets one up, by running
/// that file: a database owned by an owner role and served by another. The site's
/// `databaseURL` is the serving role's; `body` also gets the owner's URL. The roles and the
/// database are removed afterwards.
package func withSeparateRolesSite(_ body: (_ site: TestSite, _ ownerURL: String) async throws -> Void) async throws {
    guard let server = try TestPostgresServer.fromEnvironment() else { return }
    let suffix = UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
    let names = ["owner": "ward_owner_\(suffix)", "serving": "ward_serving_\(suffix)", "database": "ward_roles_\(suffix)"]
    let passwords = ["owner_password": "owner-\(UUID().uuidString)", "serving_password": "serving-\(UUID().uuidString)"]
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ward-test-\(suffix)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    func url(_ role: String) -> String {
        var url = server.adminURL
        url.user = names[role]
        url.password = passwords[role + "_password"]
        url.path = "/" + names["database"]!
        return url.string!
    }
    func cleanUp() async throws {
        try await server.administer([
            "DROP DATABASE IF EXISTS \(names["database"]!) WITH (FORCE)", "DROP ROLE IF EXISTS \(names["owner"]!)", "DROP ROLE IF EXISTS \(names["serving"]!)",
        ])
    }
    do {
        try await server.runScript(TestRepository.root.appendingPathComponent("deploy/postgres/roles.sql"), identifiers: names, literals: passwords)
        try await body(TestSite(backend: .postgres, directory: directory, databaseURL: url("serving"), databaseName: names["database"]), url("owner"))
    } catch {
        try? await cleanUp()
        throw error
    }
    try await cleanUp()
}

/// The repository the tests were built from.
package enum TestRepository {
    package static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// The PostgreSQL server named by `WARD_TEST_POSTGRES_URL` (a superuser URL).
package struct TestPostgresServer: Sendable {
    package var adminURL: URLComponents

    /// The configured server; nil when the run opted out (`WARD_TEST_POSTGRES=skip`); throws
    /// when none is configured otherwise: a PostgreSQL case never passes by not running.
    package static func fromEnvironment() throws -> TestPostgresServer? {
        let environment = ProcessInfo.processInfo.environment
        guard let text = environment["WARD_TEST_POSTGRES_URL"], !text.isEmpty, let url = URLComponents(string: text) else {
            if environment["WARD_TEST_POSTGRES"] == "skip" { return nil }
            throw PostgresUnavailable(description: """
                WARD_TEST_POSTGRES_URL is not set: run the tests through scripts/test (which starts a throwaway PostgreSQL), \
                or set WARD_TEST_POSTGRES=skip to leave the PostgreSQL cases out
                """)
        }
        return TestPostgresServer(adminURL: url)
    }

    /// The second cluster scripts/test starts for shards (`WARD_TEST_POSTGRES_SHARD_URL`, a
    /// superuser URL); nil when the run opted out (`WARD_TEST_POSTGRES=skip` or
    /// `WARD_TEST_POSTGRES_SHARD=skip`); throws when none is configured otherwise.
    package static func shardFromEnvironment() throws -> TestPostgresServer? {
        let environment = ProcessInfo.processInfo.environment
        if environment["WARD_TEST_POSTGRES"] == "skip" || environment["WARD_TEST_POSTGRES_SHARD"] == "skip" { return nil }
        guard let text = environment["WARD_TEST_POSTGRES_SHARD_URL"], !text.isEmpty, let url = URLComponents(string: text) else {
            throw PostgresUnavailable(description: """
                WARD_TEST_POSTGRES_SHARD_URL is not set: run the tests through scripts/test (which starts a second throwaway \
                cluster), or set WARD_TEST_POSTGRES_SHARD=skip to leave the shard cases out
                """)
        }
        return TestPostgresServer(adminURL: url)
    }

    /// The URL nodes use for `database`: through the PgBouncer of `WARD_TEST_PGBOUNCER_URL`
    /// when the run names one (transaction mode: the suite's PostgreSQL cases run through it as
    /// a deployment behind one would), else the server's own.
    package func nodeURL(database: String) -> String {
        guard let text = ProcessInfo.processInfo.environment["WARD_TEST_PGBOUNCER_URL"], !text.isEmpty,
              var bouncer = URLComponents(string: text) else { return url(database: database) }
        bouncer.path = "/" + database
        return bouncer.string!
    }

    /// Whether nodes reach the server through a PgBouncer in transaction mode.
    package static var throughPgBouncer: Bool { !(ProcessInfo.processInfo.environment["WARD_TEST_PGBOUNCER_URL"] ?? "").isEmpty }

    /// The URL of `database` on this server.
    package func url(database: String) -> String {
        var url = adminURL
        url.path = "/" + database
        return url.string!
    }

    /// Runs statements on the server's maintenance database (outside any transaction).
    package func administer(_ statements: [String]) async throws {
        let admin = try PostgresDatabase(url: adminURL.string!, limits: .init(maximumConnections: 1, connectTimeout: .seconds(5)), logger: TestLogs.quiet)
        do {
            try await admin.read { database in
                for statement in statements { try await database.raw(SQLQueryString(statement)).run() }
            }
        } catch {
            await admin.shutdown()
            throw PostgresUnavailable(description: "PostgreSQL at \(adminURL.host ?? "?"):\(adminURL.port ?? 5432) failed: \(String(reflecting: error))")
        }
        await admin.shutdown()
    }

    /// Runs a psql script the way `psql -v name=value -f file` would, for the subset Ward's
    /// scripts use: `:"name"` and `:'name'` variables, `--` comments, statements ending in `;`,
    /// and `\connect :"database"`, after which statements run in that database.
    package func runScript(_ file: URL, identifiers: [String: String], literals: [String: String]) async throws {
        var text = try String(contentsOf: file, encoding: .utf8)
        for (name, value) in identifiers { text = text.replacingOccurrences(of: ":\"\(name)\"", with: "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"") }
        for (name, value) in literals { text = text.replacingOccurrences(of: ":'\(name)'", with: "'" + value.replacingOccurrences(of: "'", with: "''") + "'") }
        var database: String?, batch: [String] = [], statement = ""
        func flush() async throws {
            guard !batch.isEmpty else { return }
            var target = self
            if let database { target.adminURL.path = "/" + database.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            try await target.administer(batch)
            batch = []
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.isEmpty || line.hasPrefix("--") { continue }
            if line.hasPrefix("\\connect ") {
                try await flush()
                database = String(line.dropFirst("\\connect ".count))
                continue
            }
            statement += (statement.isEmpty ? "" : " ") + line
            if statement.hasSuffix(";") {
                batch.append(String(statement.dropLast()))
                statement = ""
            }
        }
        try await flush()
    }

    package func createDatabase(_ name: String) async throws {
        try await administer(["CREATE DATABASE \(name)"])
    }

    package func dropDatabase(_ name: String) async throws {
        try await administer(["DROP DATABASE IF EXISTS \(name) WITH (FORCE)"])
    }
}

/// The streaming replica of the test server (`WARD_TEST_POSTGRES_REPLICA_URL`, a superuser URL
/// on the standby) and the script that stops and starts it (`WARD_TEST_POSTGRES_REPLICA_CTL`),
/// as scripts/test starts them.
package struct TestReplica: Sendable {
    package var adminURL: URLComponents
    let control: String

    /// The configured replica; nil when the run opted out (`WARD_TEST_POSTGRES=skip` or
    /// `WARD_TEST_POSTGRES_REPLICA=skip`); throws when none is configured otherwise.
    package static func fromEnvironment() throws -> TestReplica? {
        let environment = ProcessInfo.processInfo.environment
        if environment["WARD_TEST_POSTGRES"] == "skip" || environment["WARD_TEST_POSTGRES_REPLICA"] == "skip" { return nil }
        guard let text = environment["WARD_TEST_POSTGRES_REPLICA_URL"], let url = URLComponents(string: text),
              let control = environment["WARD_TEST_POSTGRES_REPLICA_CTL"] else {
            throw PostgresUnavailable(description: """
                WARD_TEST_POSTGRES_REPLICA_URL and _CTL are not set: run the tests through scripts/test (which starts a streaming \
                replica of its throwaway PostgreSQL), or set WARD_TEST_POSTGRES_REPLICA=skip to leave the replica cases out
                """)
        }
        return TestReplica(adminURL: url, control: control)
    }

    /// The URL of `database` on the replica.
    package func url(database: String) -> String {
        var url = adminURL
        url.path = "/" + database
        return url.string!
    }

    /// Runs a statement on the replica's maintenance database (`pg_wal_replay_pause()`, …).
    package func administer(_ statement: String) async throws {
        try await TestPostgresServer(adminURL: adminURL).administer([statement])
    }

    /// Stops the replica (`stop`) or starts it again (`start`), waiting until it has.
    package func control(_ action: String) async throws {
        let script = control
        let (status, output) = try await ExternalTool.run("/bin/sh", [script, action])
        guard status == 0 else { throw PostgresUnavailable(description: "replica \(action) failed (\(status)): \(output)") }
    }
}
