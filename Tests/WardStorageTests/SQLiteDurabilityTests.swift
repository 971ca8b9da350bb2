import Foundation
import SQLKit
import Testing
import WardTestSupport
@testable import WardStorage

@Suite("SQLite settings")
struct SQLiteDurabilityTests {
    @Test("every connection runs WAL, foreign keys, a busy timeout and synchronous=FULL")
    func pragmas() async throws {
        try await withTestSite(.sqlite) { site in
            let database = try await SQLiteDatabase.open(path: site.directory + "/p.sqlite", readerCount: 2, logger: TestLogs.quiet)

            func pragma(_ name: String, writer: Bool) async throws -> String {
                let query: @Sendable (any SQLDatabase) async throws -> String = { db in
                    let row = try await db.raw(SQLQueryString("PRAGMA \(name)")).first()
                    return try row.map { row in
                        let column = row.allColumns.first ?? name
                        if let text = try? row.decode(column: column, as: String.self) { return text }
                        return String(try row.decode(column: column, as: Int.self))
                    } ?? ""
                }
                return writer ? try await database.withWriter(query) : try await database.read(query)
            }

            for writer in [true, false] {
                #expect(try await pragma("journal_mode", writer: writer) == "wal")
                #expect(try await pragma("foreign_keys", writer: writer) == "1")
                #expect(try await pragma("synchronous", writer: writer) == "2")
                #expect(try await pragma("busy_timeout", writer: writer) == "5000")
            }
            await database.shutdown()
        }
    }

    @Test("a transaction whose task is cancelled half-way is rolled back and the writer stays usable")
    func cancelledTransaction() async throws {
        try await withTestSite(.sqlite) { site in
            let database = try await SQLiteDatabase.open(path: site.directory + "/c.sqlite", readerCount: 1, logger: TestLogs.quiet)
            try await database.transaction { db in try await db.raw("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)").run() }
            let started = AsyncStream.makeStream(of: Void.self)

            let interrupted = Task {
                try await database.transaction { db in
                    try await db.raw("INSERT INTO notes (body) VALUES ('half-way')").run()
                    started.continuation.yield()
                    try await Task.sleep(for: .seconds(30))
                    try await db.raw("INSERT INTO notes (body) VALUES ('never')").run()
                }
            }
            for await _ in started.stream { break }
            interrupted.cancel()
            _ = await interrupted.result

            try await database.transaction { db in try await db.raw("INSERT INTO notes (body) VALUES ('after')").run() }
            let bodies = try await database.read { db in
                try await db.raw("SELECT body FROM notes ORDER BY id").all().map { try $0.decode(column: "body", as: String.self) }
            }
            #expect(bodies == ["after"])
            await database.shutdown()
        }
    }

    @Test("a committed write is seen by readers; a failed transaction leaves nothing")
    func transactions() async throws {
        try await withTestSite(.sqlite) { site in
            let database = try await SQLiteDatabase.open(path: site.directory + "/t.sqlite", readerCount: 2, logger: TestLogs.quiet)
            try await database.transaction { db in try await db.raw("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)").run() }

            try await database.transaction { db in try await db.raw("INSERT INTO notes (body) VALUES ('kept')").run() }
            await #expect(throws: (any Error).self) {
                try await database.transaction { db in
                    try await db.raw("INSERT INTO notes (body) VALUES ('lost')").run()
                    try await db.raw("INSERT INTO notes (body) VALUES (NULL)").run()
                }
            }

            let bodies = try await database.read { db in
                try await db.raw("SELECT body FROM notes ORDER BY id").all().map { try $0.decode(column: "body", as: String.self) }
            }
            #expect(bodies == ["kept"])
            // Readers refuse to write.
            await #expect(throws: (any Error).self) {
                try await database.read { db in try await db.raw("INSERT INTO notes (body) VALUES ('sneaky')").run() }
            }
            await database.shutdown()
        }
    }
}
