import Foundation
package import Logging
import NIOCore
import NIOSSL
import PostgresKit
import PostgresNIO
package import SQLKit

/// A pool of PostgreSQL connections (postgres-nio's `PostgresClient`). The pool runs in a task
/// of its own from `open` until `shutdown`.
package final class PostgresDatabase: Database {
    package let dialect = Dialect.postgres
    package let displayName: String
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger
    /// The logger statements run with. postgres-nio copies it for every statement to add the
    /// connection's id, which through Ward's JSON handler is a metadata copy per query; it logs
    /// statements only at debug level and below, so above that they get a handler that keeps nothing.
    private let statementLogger: Logger
    private let statements: PostgresStatements?
    private let recordsCommitPositions: Bool
    /// Connections held and awaited, and how long they were held.
    private let pool: PoolUsage
    package var usage: PoolUsage? { pool }

    /// Connection settings that come from configuration rather than the URL.
    package struct Limits: Sendable {
        package var maximumConnections: Int
        package var connectTimeout: Duration
        package var statementTimeout: Duration
        /// Whether statements marked `SQLText.Reused` run as named statements.
        package var preparesStatements: Bool
        /// Whether a request's commits that wrote record their WAL position in its
        /// `ReadConsistency` (a primary with read replicas): one more round trip per such commit.
        package var recordsCommitPositions: Bool
        package init(
            maximumConnections: Int = 10, connectTimeout: Duration = .seconds(10), statementTimeout: Duration = .seconds(30),
            preparesStatements: Bool = true, recordsCommitPositions: Bool = false
        ) {
            self.maximumConnections = maximumConnections
            self.connectTimeout = connectTimeout
            self.statementTimeout = statementTimeout
            self.preparesStatements = preparesStatements
            self.recordsCommitPositions = recordsCommitPositions
        }
    }

    /// Opens a pool for `url` (`postgres://user:password@host:port/database?sslmode=…&sslrootcert=…`).
    package init(url: String, limits: Limits, logger: Logger) throws {
        let endpoint = try Endpoint(url)
        let host = endpoint.host, database = endpoint.database
        let tls: PostgresClient.Configuration.TLS = switch endpoint.tls {
        case .disable: .disable
        case .prefer(let configuration): .prefer(configuration)
        case .require(let configuration): .require(configuration)
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: endpoint.port, username: endpoint.user, password: endpoint.password, database: database, tls: tls
        )
        configuration.options.maximumConnections = limits.maximumConnections
        configuration.options.connectTimeout = limits.connectTimeout
        let statementMilliseconds = limits.statementTimeout.components.seconds * 1000
            + limits.statementTimeout.components.attoseconds / 1_000_000_000_000_000
        configuration.options.additionalStartupParameters = [
            ("statement_timeout", String(statementMilliseconds)),
            // A statement whose client went (a request past its deadline closes its connection)
            // is ended within a second rather than when it would next write (PostgreSQL 14+).
            ("client_connection_check_interval", "1000"),
            ("application_name", "ward"),
            // A commit is acknowledged only once durable, whatever the server's default says.
            ("synchronous_commit", "on"),
        ]
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.logger = logger
        self.statementLogger = logger.logLevel <= .debug ? logger : Logger(label: logger.label) { _ in SwiftLogNoOpLogHandler() }
        self.statements = limits.preparesStatements ? PostgresStatements() : nil
        self.recordsCommitPositions = limits.recordsCommitPositions
        self.pool = PoolUsage(size: limits.maximumConnections)
        self.displayName = "postgres:\(host):\(endpoint.port)/\(database ?? endpoint.user)"
        self.runner = Task { await client.run() }
    }

    /// Where a URL points and how to talk to it.
    struct Endpoint {
        enum TLS { case disable, prefer(TLSConfiguration), require(TLSConfiguration) }
        var host: String
        var port: Int
        var user: String
        var password: String?
        var database: String?
        var tls: TLS

        init(_ url: String) throws {
            guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme),
                  let host = components.host, !host.isEmpty else {
                throw StorageError.invalidURL("expected postgres://user:password@host:port/database")
            }
            guard let user = components.user, !user.isEmpty else { throw StorageError.invalidURL("the URL names no user") }
            self.host = host
            self.port = components.port ?? 5432
            self.user = user
            self.password = components.password
            self.database = components.path.split(separator: "/").first.map(String.init)
            self.tls = try Self.tls(components.queryItems ?? [])
        }

        /// TLS as libpq's `sslmode` means it: `disable`; `allow` and `prefer` (encrypted when
        /// the server offers it, nothing verified); `require` (encrypted, nothing verified,
        /// unless a CA file is named: then as `verify-ca`); `verify-ca` (the certificate chains
        /// to a trusted CA); `verify-full` (and names the host connected to). Trusted CAs are
        /// `sslrootcert`'s file, or the system's (`sslrootcert=system`, or none named).
        static func tls(_ query: [URLQueryItem]) throws -> TLS {
            func value(_ name: String) -> String? { query.first { $0.name == name }?.value.flatMap { $0.isEmpty ? nil : $0 } }
            let rootCertificate = value("sslrootcert").flatMap { $0 == "system" ? nil : $0 }
            if let rootCertificate, !FileManager.default.isReadableFile(atPath: rootCertificate) {
                throw StorageError.invalidURL("sslrootcert \(rootCertificate) is not a readable file")
            }
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let rootCertificate { configuration.trustRoots = .file(rootCertificate) }
            switch value("sslmode") ?? "disable" {
            case "disable":
                return .disable
            case "allow", "prefer":
                configuration.certificateVerification = .none
                return .prefer(configuration)
            case "require":
                configuration.certificateVerification = rootCertificate == nil ? .none : .noHostnameVerification
            case "verify-ca":
                configuration.certificateVerification = .noHostnameVerification
            case "verify-full":
                configuration.certificateVerification = .fullVerification
            case let mode:
                throw StorageError.invalidURL("unknown sslmode \(mode): use disable, prefer, require, verify-ca or verify-full")
            }
            return .require(configuration)
        }
    }

    /// Opens one connection to `url` as the pool would, asks whether it is encrypted, and
    /// closes it: a refused connection (a certificate not trusted, a host name it does not
    /// name, a wrong password) fails at once with the reason, where the pool would keep
    /// retrying until its circuit breaker opens.
    package static func probeEncryption(url: String, logger: Logger) async throws -> Bool {
        try await probe(url: url, logger: logger).encrypted
    }

    /// Opens one connection to `url` (see `probeEncryption`) and asks whether it is encrypted
    /// and whether the server is a standby in recovery.
    package static func probe(url: String, logger: Logger) async throws -> (encrypted: Bool, standby: Bool) {
        try await withConnection(url: url, logger: logger) { connection in
            let rows = try await connection.query(
                "SELECT COALESCE((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false), pg_is_in_recovery()", logger: logger
            )
            var answer = (encrypted: false, standby: false)
            for try await (encrypted, standby) in rows.decode((Bool, Bool).self) { answer = (encrypted, standby) }
            return answer
        }
    }

    /// Opens one connection to `url` and runs `statement` on it (a setting of the database).
    package static func execute(url: String, _ statement: String, logger: Logger) async throws {
        try await withConnection(url: url, logger: logger) { connection in
            for try await _ in try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) {}
        }
    }

    /// One connection to `url`, outside any pool, closed after `body`.
    private static func withConnection<Result>(
        url: String, logger: Logger, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let endpoint = try Endpoint(url)
        let tls: PostgresConnection.Configuration.TLS = switch endpoint.tls {
        case .disable: .disable
        case .prefer(let configuration): .prefer(try NIOSSLContext(configuration: configuration))
        case .require(let configuration): .require(try NIOSSLContext(configuration: configuration))
        }
        let configuration = PostgresConnection.Configuration(
            host: endpoint.host, port: endpoint.port, username: endpoint.user, password: endpoint.password, database: endpoint.database, tls: tls
        )
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    package func read<Result: Sendable>(_ work: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        try await leased { connection in try await work(session(on: connection)) }
    }

    package func autocommit<Result: Sendable>(_ work: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        try await leased { connection in
            let consistency = commitConsistency
            let database = session(on: connection, noting: consistency != nil)
            let result = try await work(database)
            if let consistency { await recordPosition(of: database, in: consistency) }
            return result
        }
    }

    private func session(on connection: PostgresConnection, noting writes: Bool = false) -> PostgresSession {
        PostgresSession(
            connection: connection, kit: connection.sql(queryLogLevel: nil, logger: statementLogger), statements: statements,
            databaseName: displayName, writes: writes ? WriteNote() : nil
        )
    }

    /// The request's consistency, where this primary's commits are to be recorded in it.
    private var commitConsistency: ReadConsistency? {
        recordsCommitPositions ? ReadConsistency.current : nil
    }

    /// After a commit on `database`'s connection: if it wrote, records how far the log now
    /// reaches. The insert position is past the commit's record, so a replica that has replayed
    /// up to it holds the commit.
    /// Never throws: the commit stands whatever happens here, and a caller told otherwise would
    /// do its write again. Without a position the session's next reads may lag, within the bound.
    private func recordPosition(of database: PostgresSession, in consistency: ReadConsistency) async {
        guard database.writes?.wrote == true else { return }
        do {
            let text = try await database.raw("SELECT pg_current_wal_insert_lsn()::text AS position").first()?.decode(column: "position", as: String.self)
            if let text, let position = WALPosition(text) { consistency.committed(at: position) }
        } catch {
            logger.warning("the position of a commit could not be read", metadata: ["database": "\(displayName)", "error": "\(error)"])
        }
    }

    /// Runs `work` on a pooled connection, bounded by the connection's life and, in a request
    /// (`DatabaseCancellation.abandonsWork`), by the task's cancellation. A request cancelled
    /// meanwhile (past its deadline, or the node stopping) closes the connection: whatever
    /// statement it waits on fails at once rather than when the server answers, the server ends
    /// that statement when it next checks its client (`client_connection_check_interval`), and
    /// the pool opens another. Failures of the connection rather than of the SQL are thrown as
    /// `DatabaseUnavailable`.
    private func leased<Result: Sendable>(_ work: (PostgresConnection) async throws -> Result) async throws -> Result {
        var leased = false
        do {
            // The pool learns of a connection the server closed a moment after it closes: one
            // handed out meanwhile is given back and another asked for.
            for _ in 1..<Self.leaseAttempts {
                do {
                    return try await lease { connection in
                        guard !connection.isClosed else { throw ClosedOnLease() }
                        leased = true
                        return try await work(connection)
                    }
                } catch is ClosedOnLease {
                    continue
                }
            }
            return try await lease { connection in
                leased = true
                return try await work(connection)
            }
        } catch {
            guard let unavailable = unavailable(error, leased: leased) else { throw error }
            logger.warning("database unavailable", metadata: [
                "database": "\(displayName)", "cause": "\(unavailable.cause.rawValue)", "error": "\(String(reflecting: error))",
            ])
            throw unavailable
        }
    }

    private static let leaseAttempts = 4
    private struct ClosedOnLease: Error {}

    private func lease<Result: Sendable>(_ work: (PostgresConnection) async throws -> Result) async throws -> Result {
        pool.enqueue()
        var granted = false
        defer { if !granted { pool.dequeue() } }
        return try await pooled { connection in
            granted = true
            let start = pool.acquire()
            defer { pool.release(since: start) }
            return try await work(connection)
        }
    }

    private func pooled<Result: Sendable>(_ work: (PostgresConnection) async throws -> Result) async throws -> Result {
        guard DatabaseCancellation.abandonsWork else { return try await client.withConnection(work) }
        return try await client.withConnection { connection in
            try await withTaskCancellationHandler {
                try await work(connection)
            } onCancel: {
                _ = connection.close() as EventLoopFuture<Void>
            }
        }
    }

    /// What `error` says of the database, when it is about the connection rather than the SQL.
    private func unavailable(_ error: any Error, leased: Bool) -> DatabaseUnavailable? {
        if let error = error as? DatabaseUnavailable { return error }
        if error is CancellationError { return nil }
        if let error = error as? PSQLError {
            switch error.code {
            case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown, .poolClosed:
                return DatabaseUnavailable(.connectionLost, database: displayName)
            case .server:
                let state = error.serverInfo?[.sqlState] ?? ""
                // query_canceled: the statement ran into statement_timeout or was cancelled.
                if state == "57014" { return DatabaseUnavailable(.timedOut, database: displayName) }
                // connection_exception, admin_shutdown, crash_shutdown, cannot_connect_now.
                if state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state) {
                    return DatabaseUnavailable(.connectionLost, database: displayName)
                }
                return nil
            default:
                break
            }
        }
        // No connection was leased: the pool could not open one (its circuit breaker, a
        // refused or timed-out connect).
        return leased ? nil : DatabaseUnavailable(.noConnection, database: displayName)
    }

    package func transaction<Result: Sendable>(
        searchPath: String?, _ work: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        try await leased { connection in
            let consistency = commitConsistency
            let database = session(on: connection, noting: consistency != nil)
            try await database.raw("BEGIN").run()
            do {
                if let searchPath {
                    // Local to this transaction: the pooled connection's next user never sees it.
                    let schema = try SQLIdentifierName.validated(searchPath)
                    try await database.execute(sql: SQLText.Reused(SQLQueryString("SELECT set_config('search_path', \(bind: schema), true)"))) { _ in }
                }
                let result = try await work(database)
                try await database.raw("COMMIT").run()
                if let consistency { await recordPosition(of: database, in: consistency) }
                return result
            } catch {
                // A lost connection has no transaction left to roll back, and postgres-nio
                // would never answer a statement written to it.
                guard !connection.isClosed else { throw error }
                do { try await database.raw("ROLLBACK").run() } catch {
                    logger.error("rollback failed", metadata: ["database": "\(displayName)", "error": "\(String(reflecting: error))"])
                }
                throw error
            }
        }
    }

    package func ping() async throws {
        _ = try await read { database in try await database.raw("SELECT 1").all() }
    }

    package func shutdown() async {
        runner.cancel()
        await runner.value
    }
}

/// Whether `error` is PostgreSQL refusing a row for a constraint it enforces at commit or insert:
/// a unique key (23505) or an exclusion constraint (23P01). Callers that race on purpose (two
/// bookings of one parking spot) answer 409 instead of failing.
package func isConstraintConflict(_ error: any Error) -> Bool {
    guard let error = error as? PSQLError, error.code == .server, let state = error.serverInfo?[.sqlState] else { return false }
    return state == "23505" || state == "23P01"
}
