import Foundation
package import Logging
import NIOPosix
package import SQLKit

/// One SQLite database file with one writer connection and a few readers, in WAL mode so
/// readers never wait for the writer. Every connection runs with foreign keys on and
/// `synchronous=FULL`: a committed write survives power loss. Statements run on the calling
/// thread (`SQLiteHandle`); commits, which wait for the disk, run there too while they are
/// quick (`CommitCost`), else on NIO's blocking pool, as do waits for a lock another process
/// holds. Transactions share commits (`SQLiteWriter`).
package final class SQLiteDatabase: Database {
    package let dialect = Dialect.sqlite
    package let displayName: String
    /// The file this database lives in.
    package let path: String
    private let writer: SQLiteWriter
    private let readers: LeasePool<SQLiteHandle>
    private let logger: Logger
    /// Readers and the writer leased and awaited (shared by every tenant file of a directory).
    private let pool: PoolUsage
    private let connectionCount: Int
    package var usage: PoolUsage? { pool }

    private init(path: String, writer: SQLiteHandle, readerCount: Int, usage: PoolUsage?, logger: Logger) {
        self.path = path
        self.connectionCount = max(1, readerCount) + 1
        if let usage {
            usage.resize(by: connectionCount)
            self.pool = usage
        } else {
            self.pool = PoolUsage(size: connectionCount)
        }
        self.displayName = "sqlite:" + URL(fileURLWithPath: path).lastPathComponent
        self.writer = SQLiteWriter(handle: writer, logger: logger)
        // Readers open on first need: each connection holds its own copy of the schema and page
        // cache, and many tenant files are seldom read.
        self.readers = LeasePool([], capacity: max(1, readerCount)) {
            try await NIOThreadPool.singleton.runIfActive {
                let reader = try Self.openConnection(path: path, logger: logger)
                do {
                    try reader.execute("PRAGMA query_only=ON")
                } catch {
                    reader.close()
                    throw error
                }
                return reader
            }
        }
        self.logger = logger
    }

    /// Opens (creating if needed) the database at `path`: its writer now, up to `readerCount`
    /// read connections as reads need them. Leases count in `usage` when given (the tenant
    /// files of a node share one), else in the file's own.
    package static func open(path: String, readerCount: Int, usage: PoolUsage? = nil, logger: Logger) async throws -> SQLiteDatabase {
        let writer = try await NIOThreadPool.singleton.runIfActive {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let writer = try openConnection(path: path, logger: logger)
            do {
                // WAL is a property of the file: set once by the writer, seen by every reader.
                try writer.waitingForLocks(announcingTo: logger) { try $0.execute("PRAGMA journal_mode=WAL") }
            } catch {
                writer.close()
                throw error
            }
            return writer
        }
        return SQLiteDatabase(path: path, writer: writer, readerCount: readerCount, usage: usage, logger: logger)
    }

    private static func openConnection(path: String, logger: Logger) throws -> SQLiteHandle {
        let connection = try SQLiteHandle(path: path)
        do {
            // The first statement reads the file's header: another process creating the file or
            // switching it to WAL at that moment (a CLI command beside `ward serve`) holds it.
            try connection.waitingForLocks(announcingTo: logger) { connection in
                for pragma in ["PRAGMA foreign_keys=ON", "PRAGMA synchronous=FULL", "PRAGMA temp_store=MEMORY"] {
                    try connection.execute(pragma)
                }
            }
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    package func read<Result: Sendable>(_ work: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        let lease = PoolUsage.Lease(pool)
        defer { lease.end() }
        return try await readers.withLease { handle in
            lease.acquired()
            return try await work(SQLiteSession(handle: handle, placement: .inline, logger: logger))
        }
    }

    package func transaction<Result: Sendable>(
        searchPath: String?, _ work: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        let lease = PoolUsage.Lease(pool)
        defer { lease.end() }
        return try await writer.transaction { database in
            lease.acquired()
            return try await work(database)
        }
    }

    package func ping() async throws {
        _ = try await read { database in try await database.raw("SELECT 1").all() }
    }

    /// Runs `work` on the writer outside any transaction, for statements SQLite refuses inside
    /// one (`VACUUM`) and for pragmas. Its statements run on the blocking pool.
    package func withWriter<Result: Sendable>(_ work: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        try await writer.outsideTransaction(work)
    }

    /// Commits the writer has made (tests observe group commit with it).
    var commits: Int { writer.commits }

    /// Transactions waiting for the writer.
    var waitingWriters: Int { writer.waitingCount }

    package func shutdown() async {
        await writer.close()
        for reader in await readers.drain(logger: logger) { reader.close() }
        pool.resize(by: -connectionCount)
    }
}
