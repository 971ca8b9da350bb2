import Foundation
package import Logging
import NIOCore
import NIOPosix
package import SQLKit
import SQLiteKit
import SQLiteNIO

/// One SQLite database file with one writer connection and a few readers, in WAL mode so
/// readers never wait for the writer. Every connection runs with foreign keys on, a busy
/// timeout, and `synchronous=FULL`: a committed write survives power loss.
package final class SQLiteDatabase: Database {
    package let dialect = Dialect.sqlite
    package let displayName: String
    /// The file this database lives in.
    package let path: String
    private let writer: LeasePool<SQLiteConnection>
    private let readers: LeasePool<SQLiteConnection>
    private let logger: Logger

    /// Milliseconds a connection waits on a lock held by another process (a CLI beside a
    /// running server) before failing with SQLITE_BUSY.
    static let busyTimeoutMilliseconds = 5_000

    private init(path: String, writer: SQLiteConnection, readerCount: Int, logger: Logger) {
        self.path = path
        self.displayName = "sqlite:" + URL(fileURLWithPath: path).lastPathComponent
        self.writer = LeasePool([writer])
        // Readers open on first need: each connection holds its own copy of the schema and page
        // cache, and many tenant files are seldom read.
        self.readers = LeasePool([], capacity: max(1, readerCount)) {
            let reader = try await Self.openConnection(path: path, logger: logger)
            _ = try await reader.query("PRAGMA query_only=ON")
            return reader
        }
        self.logger = logger
    }

    /// Opens (creating if needed) the database at `path`: its writer now, up to `readerCount`
    /// read connections as reads need them.
    package static func open(path: String, readerCount: Int, logger: Logger) async throws -> SQLiteDatabase {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let writer = try await openConnection(path: path, logger: logger)
        do {
            // WAL is a property of the file: set once by the writer, seen by every reader.
            _ = try await writer.query("PRAGMA journal_mode=WAL")
            return SQLiteDatabase(path: path, writer: writer, readerCount: readerCount, logger: logger)
        } catch {
            try? await writer.close()
            throw error
        }
    }

    private static func openConnection(path: String, logger: Logger) async throws -> SQLiteConnection {
        let connection = try await SQLiteConnection.open(
            storage: .file(path: path), threadPool: .singleton, logger: logger,
            on: MultiThreadedEventLoopGroup.singleton.any()
        )
        for pragma in [
            "PRAGMA foreign_keys=ON", "PRAGMA synchronous=FULL",
            "PRAGMA busy_timeout=\(busyTimeoutMilliseconds)",
        ] {
            _ = try await connection.query(pragma)
        }
        return connection
    }

    package func read<Result: Sendable>(_ work: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        try await readers.withLease { connection in try await work(connection.sql()) }
    }

    package func transaction<Result: Sendable>(
        searchPath: String?, _ work: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        try await writer.withLease { connection in
            // IMMEDIATE takes the write lock up front, so a transaction never fails half-way
            // on a lock upgrade.
            _ = try await connection.query("BEGIN IMMEDIATE")
            do {
                let result = try await work(connection.sql())
                try await Self.unlessCancelled(connection, "COMMIT")
                return result
            } catch {
                do { try await Self.unlessCancelled(connection, "ROLLBACK") } catch {
                    logger.error("rollback failed", metadata: ["database": "\(displayName)", "error": "\(error)"])
                }
                throw error
            }
        }
    }

    /// Runs a statement that must run even when the calling task is cancelled: NIO's async
    /// thread-pool calls skip cancelled work, and a skipped ROLLBACK would leave the writer
    /// inside a transaction for everyone after (a request timing out cancels its task).
    private static func unlessCancelled(_ connection: SQLiteConnection, _ statement: String) async throws {
        let done: EventLoopFuture<[SQLiteRow]> = connection.query(statement, [])
        _ = try await done.get()
    }

    package func ping() async throws {
        _ = try await read { database in try await database.raw("SELECT 1").all() }
    }

    /// Runs `work` on the writer outside any transaction, for statements SQLite refuses inside
    /// one (`VACUUM`) and for pragmas.
    package func withWriter<Result: Sendable>(_ work: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        try await writer.withLease { connection in try await work(connection.sql()) }
    }

    package func shutdown() async {
        writer.close()
        readers.close()
        for connection in writer.all + readers.all {
            try? await connection.close()
        }
    }
}
