import Foundation
import SQLKit
import Testing
import WardTestSupport
@testable import WardStorage

@Suite("PostgreSQL session")
struct PostgresSessionTests {
    /// Encodes through Codable only (no PostgreSQL encoding of its own): postgres-kit's path.
    struct Code: Encodable, Sendable {
        let value: String
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(value)
        }
    }

    @Test("values read from cells directly equal what postgres-kit reads; other binds and types still go through it")
    func values() async throws {
        try await withTestSite(.postgres) { site in
            let database = try PostgresDatabase(url: try #require(site.databaseURL), limits: .init(), logger: TestLogs.quiet)
            let (text, missing, small, large, real, flag, absent) = try await database.read { db in
                let row = try #require(try await db.raw("""
                    SELECT \(bind: "Ada Ñ") AS text, \(bind: String?.none)::text AS missing, \(bind: 42)::int4 AS small,
                           \(bind: Int64(1) << 40) AS large, 2.5::float8 AS real, true AS flag
                    """).first())
                return (try row.decode(column: "text", as: String.self), try row.decode(column: "missing", as: String?.self),
                        try row.decode(column: "small", as: Int.self), try row.decode(column: "large", as: Int64.self),
                        try row.decode(column: "real", as: Double.self), try row.decode(column: "flag", as: Bool.self),
                        try row.decodeNil(column: "missing"))
            }
            #expect(text == "Ada Ñ" && missing == nil && small == 42 && large == 1 << 40 && real == 2.5 && flag && absent)

            // A bind only Codable can encode sends the whole statement through postgres-kit.
            let coded = try await database.read { db in
                try await db.raw("SELECT \(bind: Code(value: "A-17"))::text AS code").first()?.decode(column: "code", as: String.self)
            }
            #expect(coded == "A-17")
            // Asking for a column the statement does not select is an error, not a crash.
            await #expect(throws: StorageError.self) {
                _ = try await database.read { db in try await db.raw("SELECT 1 AS one").first()?.decode(column: "two", as: Int.self) }
            }
            await database.shutdown()
        }
    }

    @Test("statements marked Reused run prepared under a name, once per connection, with the values of each call")
    func namedStatements() async throws {
        try await withTestSite(.postgres) { site in
            // The server itself: what a connection has prepared is its own, which a PgBouncer
            // in front (the run through one) would share among its clients.
            let url = try #require(try TestPostgresServer.fromEnvironment()).url(database: try #require(site.databaseName))
            let database = try PostgresDatabase(url: url, limits: .init(maximumConnections: 1), logger: TestLogs.quiet)
            let reused = { @Sendable (db: any SQLDatabase, id: Int, name: String?) in
                try await db.reusedRows(SQLQueryString("SELECT \(bind: id)::int4 + 1 AS next, \(bind: name)::text AS name")).first
            }
            let (first, second, missing, prepared) = try await database.read { db in
                let first = try #require(try await reused(db, 41, "Ada"))
                let second = try #require(try await reused(db, 1, "Grace"))
                let missing = try #require(try await reused(db, 7, nil))
                let prepared = try await db.raw("SELECT name, statement FROM pg_prepared_statements ORDER BY name").all()
                    .map { (try $0.decode(column: "name", as: String.self), try $0.decode(column: "statement", as: String.self)) }
                return (first, second, missing, prepared)
            }
            #expect(try first.decode(column: "next", as: Int.self) == 42 && first.decode(column: "name", as: String.self) == "Ada")
            #expect(try second.decode(column: "next", as: Int.self) == 2 && second.decode(column: "name", as: String.self) == "Grace")
            #expect(try missing.decode(column: "next", as: Int.self) == 8 && missing.decode(column: "name", as: String?.self) == nil)
            // One text, two parameter shapes (a NULL leaves its type to the server): two names.
            #expect(prepared.map(\.0) == ["ward_1", "ward_2"])
            #expect(prepared.allSatisfy { $0.1 == "SELECT $1::int4 + 1 AS next, $2::text AS name" })

            // An error in a named statement is the statement's error; the connection goes on.
            await #expect(throws: (any Error).self) {
                try await database.read { db in _ = try await db.reusedRows(SQLQueryString("SELECT 1 / \(bind: 0) AS boom")) }
            }
            #expect(try await database.read { db in try await reused(db, 2, "Mary") }?.decode(column: "next", as: Int.self) == 3)
            await database.shutdown()

            // Turned off, the same statement runs unnamed.
            let unnamed = try PostgresDatabase(url: url, limits: .init(maximumConnections: 1, preparesStatements: false), logger: TestLogs.quiet)
            let count = try await unnamed.read { db in
                _ = try await reused(db, 1, "Ada")
                return try await db.raw("SELECT count(*) AS n FROM pg_prepared_statements").first()?.decode(column: "n", as: Int.self)
            }
            #expect(count == 0)
            await unnamed.shutdown()
        }
    }

    @Test("statement names are stable per text and parameter types, and bounded")
    func statementNames() {
        let statements = PostgresStatements(limit: 2)
        let a = statements.name(for: "SELECT $1", types: [.text])
        #expect(a == "ward_1")
        #expect(statements.name(for: "SELECT $1", types: [.text]) == a)
        #expect(statements.name(for: "SELECT $1", types: [.int8]) == "ward_2")
        #expect(statements.name(for: "SELECT 2", types: []) == nil)
        #expect(statements.name(for: "SELECT $1", types: [.int8]) == "ward_2")
    }

    @Test("a named statement whose preparation failed (its table missing for a moment) works again once the table is back")
    func failedPreparation() async throws {
        try await withTestSite(.postgres) { site in
            let database = try PostgresDatabase(url: try #require(site.databaseURL), limits: .init(maximumConnections: 1), logger: TestLogs.quiet)
            try await database.autocommit { db in try await db.raw("CREATE TABLE later (n int4)").run() }
            try await database.autocommit { db in try await db.raw("ALTER TABLE later RENAME TO away").run() }
            let insert = { @Sendable (db: any SQLDatabase) in
                _ = try await db.reusedRows(SQLQueryString("INSERT INTO later (n) VALUES (\(bind: 1)) RETURNING n"))
            }
            await #expect(throws: (any Error).self) { try await database.autocommit(insert) }
            try await database.autocommit { db in try await db.raw("ALTER TABLE away RENAME TO later").run() }
            // The same connection (the pool holds one), the same text: prepared anew.
            try await database.autocommit(insert)
            try await database.autocommit(insert)
            let count = try await database.read { db in try await db.raw("SELECT count(*)::int4 AS n FROM later").first()?.decode(column: "n", as: Int.self) }
            #expect(count == 2)
            await database.shutdown()
        }
    }
}
