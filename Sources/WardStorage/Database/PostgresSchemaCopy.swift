import Foundation
import PostgresNIO
package import SQLKit
import Synchronization

/// A logical copy of one PostgreSQL schema (a tenant's, or the control plane's), made by Ward
/// itself rather than by `pg_dump`: every row of every table as PostgreSQL's own JSON of it
/// (`row_to_json`), read in one repeatable-read snapshot while the node serves, and loaded back
/// through `json_populate_recordset`, which parses each value with its column's own type. It
/// needs no client binary matching the server's version on the node, and a copy loads into a
/// schema of another name (a tenant restored under a new slug), which `pg_restore` cannot do.
package enum PostgresSchemaCopy {
    /// A table of the copy: its name and the columns its rows were read with.
    package struct Table: Sendable, Codable, Equatable {
        package let name: String
        package let columns: [String]

        package init(name: String, columns: [String]) {
            self.name = name
            self.columns = columns
        }
    }

    /// The tables of `schema` in an order that loads without breaking a foreign key (a table
    /// after those it references), the migration records left out.
    package static func tables(of schema: String, in database: any SQLDatabase) async throws -> [Table] {
        let rows = try await database.raw("""
            SELECT c.relname AS name, string_agg(a.attname, ',' ORDER BY a.attnum) AS columns
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
            WHERE n.nspname = \(bind: schema) AND c.relkind IN ('r', 'p') AND c.relname <> 'ward_migrations'
            GROUP BY c.relname ORDER BY c.relname
            """).all()
        var tables: [String: Table] = [:]
        for row in rows {
            let name = try row.decode(column: "name", as: String.self)
            let columns = try row.decode(column: "columns", as: String.self).split(separator: ",").map(String.init)
            tables[name] = Table(name: name, columns: columns)
        }
        let references = try await database.raw("""
            SELECT child.relname AS child, parent.relname AS parent
            FROM pg_constraint k JOIN pg_class child ON child.oid = k.conrelid JOIN pg_class parent ON parent.oid = k.confrelid
            JOIN pg_namespace n ON n.oid = child.relnamespace
            WHERE k.contype = 'f' AND n.nspname = \(bind: schema) AND child.oid <> parent.oid
            """).all()
        var parents: [String: Set<String>] = [:]
        for row in references {
            parents[try row.decode(column: "child", as: String.self), default: []].insert(try row.decode(column: "parent", as: String.self))
        }
        // Depth-first: each table after its parents, ties in name order.
        var ordered: [Table] = [], placed: Set<String> = [], visiting: Set<String> = []
        func place(_ name: String) {
            guard !placed.contains(name), !visiting.contains(name), let table = tables[name] else { return }
            visiting.insert(name)
            for parent in (parents[name] ?? []).sorted() { place(parent) }
            visiting.remove(name)
            placed.insert(name)
            ordered.append(table)
        }
        for name in tables.keys.sorted() { place(name) }
        return ordered
    }

    /// Reads every row of `schema` in one snapshot: `table` for each table in load order, then
    /// `row` with each of its rows as JSON text. Runs inside `database`'s transaction, which
    /// this makes repeatable-read and read-only before anything else, and frees of the node's
    /// statement timeout (a large table takes longer than a request's query).
    package static func read(
        _ schema: String, in database: any SQLDatabase, table: (Table) throws -> Void, row: @escaping @Sendable (String) throws -> Void
    ) async throws {
        try await database.raw("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").run()
        try await database.raw("SET LOCAL statement_timeout = 0").run()
        let schemaName = try SQLIdentifierName.validated(schema)
        for entry in try await tables(of: schema, in: database) {
            let name = try SQLIdentifierName.validated(entry.name)
            try table(entry)
            let failure = Mutex<(any Error)?>(nil)
            try await database.raw("SELECT row_to_json(t)::text AS row FROM \(ident: schemaName).\(ident: name) t").run { result in
                guard failure.withLock({ $0 == nil }) else { return }
                do {
                    try row(try result.decode(column: "row", as: String.self))
                } catch {
                    failure.withLock { $0 = error }
                }
            }
            if let error = failure.withLock({ $0 }) { throw error }
        }
    }

    /// Turns the user triggers of every table of `schema` off (before a load: what they would
    /// derive from each row is in the copy already) or back on.
    package static func setTriggers(_ enabled: Bool, schema: String, in database: any SQLDatabase) async throws {
        let schemaName = try SQLIdentifierName.validated(schema)
        for table in try await tables(of: schema, in: database) {
            let name = try SQLIdentifierName.validated(table.name)
            try await database.raw("ALTER TABLE \(ident: schemaName).\(ident: name) \(unsafeRaw: enabled ? "ENABLE" : "DISABLE") TRIGGER USER").run()
        }
    }

    /// Loads `rows` (JSON objects as text) into `table` of `schema`: the columns both the copy
    /// and the table have (a column added since the copy takes its default), identity values
    /// as copied.
    package static func load(_ rows: [String], into table: Table, schema: String, present: Table, in database: any SQLDatabase) async throws {
        guard !rows.isEmpty else { return }
        let schemaName = try SQLIdentifierName.validated(schema)
        let name = try SQLIdentifierName.validated(table.name)
        let columns = table.columns.filter { present.columns.contains($0) }
        guard !columns.isEmpty else { return }
        let list = SQLText.columns(try columns.map(SQLIdentifierName.validated))
        let array = "[" + rows.joined(separator: ",") + "]"
        try await database.raw("""
            INSERT INTO \(ident: schemaName).\(ident: name) (\(unsafeRaw: list)) OVERRIDING SYSTEM VALUE
            SELECT \(unsafeRaw: list) FROM json_populate_recordset(NULL::\(ident: schemaName).\(ident: name), \(bind: array)::json)
            """).run()
    }

    /// Removes every row of `table` (before a load into a freshly migrated schema).
    package static func empty(_ table: Table, schema: String, in database: any SQLDatabase) async throws {
        let schemaName = try SQLIdentifierName.validated(schema)
        let name = try SQLIdentifierName.validated(table.name)
        try await database.raw("DELETE FROM \(ident: schemaName).\(ident: name)").run()
    }

    /// Moves each identity or serial sequence of `schema` past the largest value its column holds.
    package static func resetSequences(of schema: String, in database: any SQLDatabase) async throws {
        let schemaName = try SQLIdentifierName.validated(schema)
        let rows = try await database.raw("""
            SELECT c.relname AS table_name, a.attname AS column_name
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = \(bind: schema) AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
              AND pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname) IS NOT NULL
            """).all()
        for row in rows {
            let table = try SQLIdentifierName.validated(try row.decode(column: "table_name", as: String.self))
            let column = try SQLIdentifierName.validated(try row.decode(column: "column_name", as: String.self))
            try await database.raw("""
                SELECT setval(pg_get_serial_sequence(\(bind: "\(schemaName).\(table)"), \(bind: column)),
                              COALESCE((SELECT MAX(\(ident: column)) FROM \(ident: schemaName).\(ident: table)), 0) + 1, false)
                """).run()
        }
    }
}

extension PostgresSchemaCopy {
    /// What went wrong, for an operator: PostgreSQL's own message, state, table and constraint,
    /// never the statement's values (a copy's rows are patient data).
    package static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return String(describing: error) }
        guard error.code == .server, let info = error.serverInfo else {
            // A connection refused or lost: the network's reason (it names no credentials).
            return error.underlying.map { String(describing: $0) } ?? "\(error.code)"
        }
        let parts = [info[.message], info[.tableName].map { "table \($0)" }, info[.constraintName].map { "constraint \($0)" },
                     info[.sqlState].map { "SQLSTATE \($0)" }].compactMap { $0 }
        return "PostgreSQL: " + parts.joined(separator: ", ")
    }
}
