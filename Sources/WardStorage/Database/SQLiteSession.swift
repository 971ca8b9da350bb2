import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO

/// SQLKit's view of a leased `SQLiteHandle`. Statements run on the calling thread, except where
/// they may wait: on a lock another process holds (retried on NIO's blocking pool with the busy
/// timeout), or on the disk (`onThreadPool`).
struct SQLiteSession: SQLDatabase {
    /// Where this session's statements run.
    enum Placement {
        /// On the calling thread; a statement refused with SQLITE_BUSY is retried on the pool.
        case inline
        /// On NIO's blocking-work pool, waiting for locks up to the busy timeout.
        case threadPool
    }

    let handle: SQLiteHandle
    let placement: Placement
    let logger: Logger

    /// Milliseconds a statement waits on a lock held by another process (a CLI beside a running
    /// server) before failing with SQLITE_BUSY.
    static let busyTimeoutMilliseconds: Int32 = 5_000

    // One encoder and decoder for every session: they hold JSON coders, costly to make per query.
    static let encoder = SQLiteDataEncoder()
    static let decoder = SQLiteDataDecoder()

    var eventLoop: any EventLoop { MultiThreadedEventLoopGroup.singleton.any() }
    var dialect: any SQLDialect { SQLiteDialect() }
    var version: (any SQLDatabaseReportedVersion)? { nil }
    var queryLogLevel: Logger.Level? { .debug }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        let (sql, rawBinds) = serialize(query)
        if logger.logLevel <= .debug {
            logger.debug("query", metadata: ["sql": .string(sql)])
        }
        let binds = try rawBinds.map(Self.encode)
        switch placement {
        case .inline:
            var delivered = false
            do {
                try handle.run(sql, binds) { row in
                    delivered = true
                    onRow(SQLiteRowView(row: row))
                }
            } catch let failure as SQLiteFailure where failure.isBusy && !delivered {
                try await onThreadPoolWaitingForLocks(sql, binds, onRow)
            }
        case .threadPool:
            try await onThreadPoolWaitingForLocks(sql, binds, onRow)
        }
    }

    private func onThreadPoolWaitingForLocks(_ sql: String, _ binds: [SQLiteData], _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        try await handle.onThreadPool { handle in
            try handle.waitingForLocks { try $0.run(sql, binds) { row in onRow(SQLiteRowView(row: row)) } }
        }
    }

    /// A bound value as sqlite-kit's encoder gives it; strings, integers and nil without its
    /// protocol-conformance lookup.
    static func encode(_ value: any Encodable & Sendable) throws -> SQLiteData {
        switch value {
        case let text as String: .text(text)
        case let integer as Int: .integer(integer)
        case let integer as Int64: .integer(Int(integer))
        case let text as String?: text.map(SQLiteData.text) ?? .null
        default: try encoder.encode(value)
        }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        promise.completeWithTask { try await self.execute(sql: query, onRow) }
        return promise.futureResult
    }
}

extension SQLiteHandle {
    /// Runs `work` on NIO's blocking-work pool. It runs whatever happens to the calling task:
    /// a statement that must run (COMMIT, ROLLBACK) is never skipped because a request timed out.
    func onThreadPool<Result: Sendable>(_ work: @escaping @Sendable (SQLiteHandle) throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            NIOThreadPool.singleton.submit { state in
                guard case .active = state else {
                    continuation.resume(throwing: SQLiteFailure(code: 21, message: "the blocking-work pool has stopped"))
                    return
                }
                continuation.resume(with: Swift.Result { try work(self) })
            }
        }
    }

    /// Runs `work`, and when another process holds the lock it needs, says so and runs it again
    /// waiting up to the busy timeout; for idempotent work off the calling thread (opening a
    /// file), where a wait is worth a line in the log.
    func waitingForLocks<Result>(announcingTo logger: Logger, _ work: (SQLiteHandle) throws -> Result) throws -> Result {
        do {
            return try work(self)
        } catch let failure as SQLiteFailure where failure.isBusy {
            logger.notice("waiting for another process to release the database", metadata: [
                "path": "\(path)", "wait_limit_ms": "\(SQLiteSession.busyTimeoutMilliseconds)",
            ])
            return try waitingForLocks(work)
        }
    }

    /// Runs `work` with the busy timeout on: for work already off the calling thread.
    func waitingForLocks<Result>(_ work: (SQLiteHandle) throws -> Result) rethrows -> Result {
        setBusyTimeout(milliseconds: SQLiteSession.busyTimeoutMilliseconds)
        defer { setBusyTimeout(milliseconds: 0) }
        return try work(self)
    }
}

/// One row of a result, decoded as sqlite-kit decodes (so values read back as they were written).
struct SQLiteRowView: SQLRow {
    let row: SQLiteResultRow

    var allColumns: [String] { row.columns.names }

    func contains(column: String) -> Bool {
        row.columns.index(of: column) != nil
    }

    func decodeNil(column: String) throws -> Bool {
        (row.value(column) ?? .null) == .null
    }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        guard let data = row.value(column) else { throw StorageError.missingColumn(column) }
        // The common cases without the decoder's dynamic casts, giving what it would give.
        switch data {
        case .text(let text) where D.self == String.self:
            return unsafeBitCast(text, to: D.self)
        case .text(let text) where D.self == String?.self:
            return unsafeBitCast(Optional(text), to: D.self)
        case .null where D.self == String?.self:
            return unsafeBitCast(String?.none, to: D.self)
        case .integer(let integer) where D.self == Int.self:
            return unsafeBitCast(integer, to: D.self)
        case .integer(let integer) where D.self == Int64.self:
            return unsafeBitCast(Int64(integer), to: D.self)
        default:
            return try SQLiteSession.decoder.decode(D.self, from: data)
        }
    }
}
