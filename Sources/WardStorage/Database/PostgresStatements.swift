import Logging
import PostgresNIO
package import SQLKit
import Synchronization

extension SQLText {
    /// A statement run often enough to keep parsed and planned: on PostgreSQL it is prepared
    /// once per connection under a name and then only bound and executed. (An unnamed statement
    /// is parsed and planned on every call; that was half of the server's time in an audited
    /// read.) On SQLite every statement is kept prepared anyway. Meant for statements whose text
    /// repeats and whose plan does not depend on the values bound.
    package struct Reused: SQLExpression {
        let statement: any SQLExpression

        package init(_ statement: any SQLExpression) {
            self.statement = statement
        }

        package func serialize(to serializer: inout SQLSerializer) {
            statement.serialize(to: &serializer)
        }
    }
}

/// Names for the statements Ward keeps prepared, by text and parameter types. PostgresNIO
/// prepares a name on a connection the first time it runs there and keeps it for the
/// connection's life, so the number of names is bounded here: beyond `limit` distinct
/// statements, the rest run unnamed. A tenant's statements name its schema, so each tenant in
/// use takes a few names (its patient read and its audit appends: about four); 1,024 keeps a
/// hundred busy tenants prepared (reads spread over 100 of 1,000 tenants: 1,909 a second
/// against 1,636 with 256 names), at a few megabytes of plans per connection on the server.
final class PostgresStatements: Sendable {
    let limit: Int

    private struct Key: Hashable {
        let sql: String
        let types: [UInt32]
    }

    private struct Names {
        var byKey: [Key: String] = [:]
        var issued = 0
        /// How often each statement's name was retired; past `retireLimit` it runs unnamed.
        var retired: [Key: Int] = [:]
    }

    /// How many times a statement may fail to prepare before it runs unnamed for good.
    static let retireLimit = 3

    private let names = Mutex(Names())

    init(limit: Int = 1024) {
        self.limit = limit
    }

    /// The name for `sql` with parameters of `types`; nil when the limit is reached.
    func name(for sql: String, types: [PostgresDataType]) -> String? {
        let key = Key(sql: sql, types: types.map(\.rawValue))
        return names.withLock { names in
            if let name = names.byKey[key] { return name }
            guard names.byKey.count < limit, names.retired[key, default: 0] < Self.retireLimit else { return nil }
            names.issued += 1
            let name = "ward_\(names.issued)"
            names.byKey[key] = name
            return name
        }
    }

    /// Forgets the name of `sql` with `types`, so its next run prepares it under a new one.
    func retire(_ sql: String, types: [PostgresDataType]) {
        let key = Key(sql: sql, types: types.map(\.rawValue))
        names.withLock { names in
            if names.byKey.removeValue(forKey: key) != nil { names.retired[key, default: 0] += 1 }
        }
    }

    /// Whether `error` is the server refusing a statement's text because something it names is
    /// missing (a table, a column, a function, a schema), which is when a preparation fails;
    /// errors of a prepared statement's execution (a violated key, a timeout, a refused
    /// privilege) are not.
    static func failedToPrepare(_ error: PSQLError) -> Bool {
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else { return false }
        return ["42P01", "42703", "42883", "3F000"].contains(state)
    }
}

/// The one statement type through which Ward's named statements run. PostgresNIO takes a
/// prepared statement's name, text and parameter types from static properties of its type,
/// read as `execute` starts; Ward's texts carry the tenant's schema, so the type reads them
/// from a task-local value set around that call.
struct NamedStatement: PostgresPreparedStatement {
    struct Current {
        let name: String
        let sql: String
        let types: [PostgresDataType]
    }

    @TaskLocal static var current: Current?

    static var name: String { current?.name ?? "" }
    static var sql: String { current?.sql ?? "" }
    static var bindingDataTypes: [PostgresDataType] { current?.types ?? [] }

    let bindings: PostgresBindings

    func makeBindings() throws -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

extension SQLDatabase {
    /// The rows of `statement`, run as `SQLText.Reused`: kept prepared where the database can.
    package func reusedRows(_ statement: any SQLExpression) async throws -> [any SQLRow] {
        let rows = Mutex<[any SQLRow]>([])
        try await execute(sql: SQLText.Reused(statement)) { row in rows.withLock { $0.append(row) } }
        return rows.withLock { $0 }
    }
}
