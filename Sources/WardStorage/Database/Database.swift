package import SQLKit
package import WardCore

/// The SQL dialects Ward speaks. Dialect-specific SQL lives behind one function per feature.
package enum Dialect: String, Sendable {
    case sqlite, postgres
}

/// One database a node uses: an embedded SQLite file or a PostgreSQL pool. Every query goes
/// through `read` or `transaction`, so connection use is always bounded and released.
package protocol Database: Sendable {
    /// The dialect of this database.
    var dialect: Dialect { get }
    /// A name for health checks and logs that never includes credentials.
    var displayName: String { get }
    /// Runs read-only work on a pooled connection.
    func read<Result: Sendable>(_ work: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result
    /// Runs work in one transaction: committed when `work` returns, rolled back when it throws.
    /// On PostgreSQL, `searchPath` (a validated schema name) is set for this transaction only.
    func transaction<Result: Sendable>(
        searchPath: String?, _ work: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result
    /// Runs one statement that commits on its own, without BEGIN and COMMIT around it: one round
    /// trip on PostgreSQL. `work` must run exactly one statement; a single statement is atomic.
    func autocommit<Result: Sendable>(_ work: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result
    /// Checks that the database answers a trivial query.
    func ping() async throws
    /// Closes every connection; further use fails.
    func shutdown() async
    /// How busy its connections are (nil where nothing is counted).
    var usage: PoolUsage? { get }
}

extension Database {
    package var usage: PoolUsage? { nil }

    /// A transaction of its own: on SQLite every write goes through the writer's transactions.
    package func autocommit<Result: Sendable>(_ work: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        try await transaction(searchPath: nil, work)
    }

    /// Runs work in one transaction without a search path.
    package func transaction<Result: Sendable>(
        _ work: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        try await transaction(searchPath: nil, work)
    }
}

/// What cancelling the current task does to its database work.
package enum DatabaseCancellation {
    /// Whether cancelling the current task abandons its PostgreSQL work at once (its connection
    /// is closed, so the statement it waits on fails and the server ends it). True in a
    /// request's task, which its deadline cancels and which must be answered then; elsewhere
    /// (jobs, tests, background work) cancelled work runs to its end, bounded by
    /// `statement_timeout`, so a task group that cancels its other children never leaves
    /// their transactions half done.
    @TaskLocal package static var abandonsWork = false
}

/// The database could not answer in time or at all: its connection was lost, no connection
/// could be had, or the server stopped the statement at its time limit. Answered 503 with
/// `Retry-After`, so a client tries again rather than seeing a 500 or no answer at all.
package struct DatabaseUnavailable: ProblemConvertible, CustomStringConvertible {
    package enum Cause: String, Sendable {
        case connectionLost = "connection lost"
        case noConnection = "no connection could be had"
        case timedOut = "statement timed out"
    }

    package let cause: Cause
    package let database: String

    package init(_ cause: Cause, database: String) {
        self.cause = cause
        self.database = database
    }

    package var problem: Problem {
        cause == .timedOut
            ? Problem(status: 503, title: "Request timed out", detail: "The request took too long and was stopped; try again.")
            : Problem(status: 503, title: "Database unavailable", detail: "The database did not answer; try again shortly.")
    }

    package var retryAfter: Int? { 1 }
    package var description: String { "\(database): \(cause.rawValue)" }
}

/// Database failures Ward reports; their text never reaches a client.
package enum StorageError: Error, CustomStringConvertible {
    case invalidURL(String)
    case invalidIdentifier(String)
    case closed(String)
    /// A row was asked for a column its statement does not select (a programming error).
    case missingColumn(String)

    package var description: String {
        switch self {
        case .invalidURL(let reason): "invalid database URL: \(reason)"
        case .invalidIdentifier(let name): "invalid SQL identifier '\(name)'"
        case .closed(let name): "database \(name) is closed"
        case .missingColumn(let column): "no column \(column) in the result"
        }
    }
}
