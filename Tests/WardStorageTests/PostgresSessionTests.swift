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
}
