import Logging
import NIOCore
import PostgresKit
import PostgresNIO
import SQLKit
import WardCore

/// SQLKit's view of a leased PostgreSQL connection, reading rows without postgres-kit's generic
/// translation: that decodes every column through a coding path and dynamic casts, and was 30%
/// of a search's time. Binds are encoded as postgres-kit encodes them (nil as NULL, then the
/// types' own PostgreSQL encoding); a statement with a bind of another kind, and every value
/// decoded as another type, goes through postgres-kit as before.
struct PostgresSession: SQLDatabase {
    let connection: PostgresConnection
    /// postgres-kit's view of the same connection: dialect, logging and everything not handled here.
    let kit: any SQLDatabase
    /// Where statements marked `SQLText.Reused` are kept prepared; nil runs every statement unnamed.
    var statements: PostgresStatements? = nil
    /// The database's name for errors.
    var databaseName = "postgres"
    /// Notes whether a statement other than a SELECT ran, where commits record their position.
    var writes: WriteNote? = nil

    var logger: Logger { kit.logger }
    var eventLoop: any EventLoop { kit.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { kit.version }
    var dialect: any SQLDialect { kit.dialect }
    var queryLogLevel: Logger.Level? { kit.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        kit.execute(sql: query, onRow)
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        // postgres-nio drops a statement written to a closed connection without ever answering
        // it: a connection lost since it was leased fails here instead.
        guard !connection.isClosed else { throw DatabaseUnavailable(.connectionLost, database: databaseName) }
        let (sql, binds) = serialize(query)
        if let writes, !writes.wrote, WriteNote.changesData(sql) { writes.wrote = true }
        var bindings = PostgresBindings(capacity: binds.count)
        // Parameter types name a prepared statement; an unnamed one does not need them.
        let named = statements != nil && query is SQLText.Reused
        var types: [PostgresDataType] = []
        if named { types.reserveCapacity(binds.count) }
        for bind in binds {
            if let optional = bind as? any OptionalBind, optional.isNone {
                bindings.appendNull()
                if named { types.append(.null) }
            } else if let value = bind as? any PostgresThrowingDynamicTypeEncodable {
                try bindings.append(value, context: .default)
                if named { types.append(value.psqlType) }
            } else {
                try await kit.execute(sql: query, onRow)
                return
            }
        }
        if named, let statements, let name = statements.name(for: sql, types: types) {
            do {
                let rows = try await NamedStatement.$current.withValue(.init(name: name, sql: sql, types: types)) {
                    try await connection.execute(NamedStatement(bindings: bindings), logger: logger)
                }
                for try await row in rows { onRow(PostgresRowView(row: row)) }
            } catch let error as PSQLError where PostgresStatements.failedToPrepare(error) {
                // postgres-nio keeps a name whose preparation failed failing on this connection
                // for good: a table missing for a moment (a deploy, an operator's repair) would
                // leave it broken after the table is back. The next call takes a new name.
                statements.retire(sql, types: types)
                throw error
            }
            return
        }
        // Rows handed over as they arrive, as postgres-kit runs its statements (its async row
        // sequence left a statement waiting for good now and then under a parallel test run).
        _ = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger) { row in
            onRow(PostgresRowView(row: row))
        }.get()
    }
}

/// A bound optional, seen through the existential it arrives in: comparing that existential
/// with nil finds nothing (it holds an `Optional.none`, it is not one), and every statement with
/// a nil bind went the slow way through postgres-kit.
private protocol OptionalBind {
    var isNone: Bool { get }
}

extension Optional: OptionalBind {
    var isNone: Bool { self == nil }
}

/// One result row; strings and integers decoded straight from their cells.
struct PostgresRowView: SQLRow {
    let row: PostgresRow
    let cells: PostgresRandomAccessRow

    init(row: PostgresRow) {
        self.row = row
        self.cells = row.makeRandomAccess()
    }

    var allColumns: [String] { cells.map(\.columnName) }

    func contains(column: String) -> Bool {
        cells.contains(column)
    }

    func decodeNil(column: String) throws -> Bool {
        !cells.contains(column) || cells[column].bytes == nil
    }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        guard cells.contains(column) else { throw StorageError.missingColumn(column) }
        let cell = cells[column]
        // postgres-kit reads user-defined types (enums) as strings its own way: left to it.
        if !cell.dataType.isUserDefined {
            if D.self == String.self { return unsafeBitCast(try cell.decode(String.self, context: .default), to: D.self) }
            if D.self == String?.self {
                return unsafeBitCast(cell.bytes == nil ? nil : try cell.decode(String.self, context: .default) as String?, to: D.self)
            }
            if D.self == Int.self { return unsafeBitCast(try cell.decode(Int.self, context: .default), to: D.self) }
            if D.self == Int64.self { return unsafeBitCast(try cell.decode(Int64.self, context: .default), to: D.self) }
        }
        return try row.sql().decode(column: column, as: D.self)
    }
}

/// Whether a transaction changed anything: only a commit that wrote records its WAL position for
/// read-your-writes (reads must not pin a session to the primary). A statement counts as a write
/// unless its first word says otherwise (a SELECT, or transaction control); a CTE that only
/// reads counts too, which at worst sends the session's next reads to the primary.
final class WriteNote: @unchecked Sendable {
    // One transaction's statements run one after another on its connection.
    var wrote = false

    private static let readingWords: Set<String> = ["select", "begin", "commit", "rollback", "savepoint", "release", "show"]

    static func changesData(_ sql: String) -> Bool {
        let word = sql.utf8.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x28 }.prefix { $0 >= 0x41 }.prefix(9)
        return !readingWords.contains(String(decoding: word, as: UTF8.self).lowercased())
    }
}
