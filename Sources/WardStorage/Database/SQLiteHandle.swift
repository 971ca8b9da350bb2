import NIOCore
import NIOPosix
import SQLiteNIO
import Synchronization
import VaporCSQLite

/// One SQLite connection driven through SQLite's C interface, synchronously, on whichever thread
/// calls it. A point read is a few microseconds of SQLite work; handing it to a thread pool and
/// back cost three thread switches and more time than the read itself. Prepared statements are
/// kept per connection, so a repeated query is parsed once.
///
/// It uses the SQLite library that sqlite-nio vendors (its `sqlite_nio_`-prefixed symbols): one
/// copy of SQLite in the process, because two copies opening one file do not see each other's
/// POSIX locks and can corrupt it.
///
/// Not thread-safe: a handle is used by one holder at a time (a `LeasePool` lease).
final class SQLiteHandle: @unchecked Sendable {
    private var connection: OpaquePointer?
    private var statements: [String: PreparedStatement] = [:]
    /// The file this handle has open, for errors.
    let path: String

    /// Prepared statements kept per connection; beyond this the cache starts over (the queries
    /// Ward repeats are far fewer).
    static let statementCacheLimit = 256

    /// Opens (creating if needed) the database file at `path`. The busy timeout starts at zero:
    /// work on the calling thread never waits for a lock; a caller that can wait says so.
    init(path: String) throws {
        self.path = path
        var connection: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite_nio_sqlite3_open_v2(path, &connection, flags, nil)
        guard status == SQLITE_OK, let connection else {
            let message = connection.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite_nio_sqlite3_close_v2(connection)
            throw SQLiteFailure(code: status, message: message)
        }
        sqlite_nio_sqlite3_extended_result_codes(connection, 1)
        self.connection = connection
    }

    deinit {
        close()
    }

    /// How long SQLite retries a locked database before answering SQLITE_BUSY.
    func setBusyTimeout(milliseconds: Int32) {
        sqlite_nio_sqlite3_busy_timeout(connection, milliseconds)
    }

    /// Runs `body` with the open connection (nothing when closed).
    func withConnection(_ body: (OpaquePointer) -> Void) {
        if let connection { body(connection) }
    }

    /// Whether no transaction is open (SQLite ends one itself after some errors).
    var isAutocommit: Bool {
        connection.map { sqlite_nio_sqlite3_get_autocommit($0) != 0 } ?? true
    }

    /// Runs `sql` with `binds`, handing each result row to `onRow`.
    func run(_ sql: String, _ binds: [SQLiteData], _ onRow: (SQLiteResultRow) throws -> Void) throws {
        guard let connection else { throw SQLiteFailure(code: SQLITE_MISUSE, message: "connection to \(path) is closed") }
        let prepared = try prepared(sql, on: connection)
        let statement = prepared.statement
        defer {
            sqlite_nio_sqlite3_reset(statement)
            sqlite_nio_sqlite3_clear_bindings(statement)
        }
        try bind(binds, to: statement, on: connection)
        var columns: SQLiteColumnNames?
        while true {
            let status = sqlite_nio_sqlite3_step(statement)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else { throw failure(status, on: connection) }
            let names = columns ?? prepared.columnNames()
            columns = names
            var values: [SQLiteData] = []
            values.reserveCapacity(names.names.count)
            for index in 0..<Int32(names.names.count) { values.append(Self.value(at: index, of: statement)) }
            try onRow(SQLiteResultRow(columns: names, values: values))
        }
    }

    /// Runs a statement that returns no rows and needs no binds (BEGIN, COMMIT, pragmas).
    func execute(_ sql: String) throws {
        try run(sql, []) { _ in }
    }

    /// Finalizes every statement and closes the connection; further use fails.
    func close() {
        for cached in statements.values { sqlite_nio_sqlite3_finalize(cached.statement) }
        statements.removeAll()
        if let connection { sqlite_nio_sqlite3_close_v2(connection) }
        connection = nil
    }

    private func prepared(_ sql: String, on connection: OpaquePointer) throws -> PreparedStatement {
        if let cached = statements[sql] { return cached }
        var statement: OpaquePointer?
        let status = sqlite_nio_sqlite3_prepare_v3(connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard status == SQLITE_OK, let statement else { throw failure(status, on: connection) }
        if statements.count >= Self.statementCacheLimit {
            for cached in statements.values { sqlite_nio_sqlite3_finalize(cached.statement) }
            statements.removeAll(keepingCapacity: true)
        }
        let prepared = PreparedStatement(statement)
        statements[sql] = prepared
        return prepared
    }

    private func bind(_ binds: [SQLiteData], to statement: OpaquePointer, on connection: OpaquePointer) throws {
        for (offset, value) in binds.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32
            switch value {
            case .integer(let integer):
                status = sqlite_nio_sqlite3_bind_int64(statement, index, Int64(integer))
            case .float(let double):
                status = sqlite_nio_sqlite3_bind_double(statement, index, double)
            case .text(let text):
                status = sqlite_nio_sqlite3_bind_text64(statement, index, text, UInt64(text.utf8.count), transient, UInt8(SQLITE_UTF8))
            case .blob(let bytes):
                status = bytes.withUnsafeReadableBytes { raw in
                    raw.isEmpty
                        ? sqlite_nio_sqlite3_bind_zeroblob(statement, index, 0)
                        : sqlite_nio_sqlite3_bind_blob64(statement, index, raw.baseAddress, UInt64(raw.count), transient)
                }
            case .null:
                status = sqlite_nio_sqlite3_bind_null(statement, index)
            }
            guard status == SQLITE_OK else { throw failure(status, on: connection) }
        }
    }

    private static func value(at index: Int32, of statement: OpaquePointer) -> SQLiteData {
        switch sqlite_nio_sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER:
            return .integer(Int(sqlite_nio_sqlite3_column_int64(statement, index)))
        case SQLITE_FLOAT:
            return .float(sqlite_nio_sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            // Length first: text may hold NUL characters, which a C string would cut.
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            guard let text = sqlite_nio_sqlite3_column_text(statement, index) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            guard count > 0, let bytes = sqlite_nio_sqlite3_column_blob(statement, index) else { return .blob(ByteBuffer()) }
            return .blob(ByteBuffer(bytes: UnsafeRawBufferPointer(start: bytes, count: count)))
        default:
            return .null
        }
    }

    private func failure(_ status: Int32, on connection: OpaquePointer) -> SQLiteFailure {
        SQLiteFailure(code: status, message: String(cString: sqlite_nio_sqlite3_errmsg(connection)))
    }
}

/// SQLite's "copy the bytes now" destructor, which Swift cannot import as a macro.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// An error SQLite reported, with its (extended) result code.
package struct SQLiteFailure: Error, CustomStringConvertible {
    /// SQLite's extended result code.
    package let code: Int32
    package let message: String

    /// Whether another connection (usually another process) held the lock asked for.
    package var isBusy: Bool { code & 0xFF == SQLITE_BUSY }

    package var description: String { "SQLite error \(code): \(message)" }
}

/// A prepared statement and, once it has returned a row, its column names: they come from the
/// statement's text (Ward names every column it selects), so they are read once, not per query.
/// Used only by the handle that prepared it.
private final class PreparedStatement {
    let statement: OpaquePointer
    private var columns: SQLiteColumnNames?

    init(_ statement: OpaquePointer) {
        self.statement = statement
    }

    func columnNames() -> SQLiteColumnNames {
        // A schema change re-prepares the statement; a different count means its names changed.
        if let columns, columns.names.count == Int(sqlite_nio_sqlite3_column_count(statement)) { return columns }
        let names = SQLiteColumnNames(statement)
        columns = names
        return names
    }
}

/// The column names of one result, shared by its rows.
final class SQLiteColumnNames: Sendable {
    let names: [String]
    /// Each name's first position: rows are read column by column, by name.
    private let positions: [String: Int]

    init(_ statement: OpaquePointer) {
        let count = sqlite_nio_sqlite3_column_count(statement)
        names = (0..<count).map { index in sqlite_nio_sqlite3_column_name(statement, index).map { String(cString: $0) } ?? "" }
        positions = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    func index(of column: String) -> Int? {
        positions[column]
    }
}

/// One result row as SQLite returned it.
struct SQLiteResultRow: Sendable {
    let columns: SQLiteColumnNames
    let values: [SQLiteData]

    func value(_ column: String) -> SQLiteData? {
        columns.index(of: column).map { values[$0] }
    }
}
