import Foundation
import SQLKit
import Testing
import WardTestSupport
@testable import WardStorage

@Suite("SQLite settings")
struct SQLiteDurabilityTests {
    /// The bodies in the tests' `notes` table, in insertion order.
    static func notes(in database: SQLiteDatabase) async throws -> [String] {
        try await database.read { db in
            try await db.raw("SELECT body FROM notes ORDER BY id").all().map { try $0.decode(column: "body", as: String.self) }
        }
    }

    @Test("every connection runs WAL, foreign keys, synchronous=FULL and in-memory journals; only work off the calling thread waits for locks")
    func pragmas() async throws {
        try await withTestSite(.sqlite) { site in
            let database = try await SQLiteDatabase.open(path: site.directory + "/p.sqlite", readerCount: 2, logger: TestLogs.quiet)

            func pragma(_ name: String, writer: Bool) async throws -> String {
                let query: @Sendable (any SQLDatabase) async throws -> String = { db in
                    let row = try await db.raw(SQLQueryString("PRAGMA \(unsafeRaw: name)")).first()
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
                #expect(try await pragma("temp_store", writer: writer) == "2")
            }
            // The writer's out-of-transaction work runs on the blocking pool and may wait; reads
            // run on the calling thread and never do (a busy read is retried on the pool).
            #expect(try await pragma("busy_timeout", writer: true) == "5000")
            #expect(try await pragma("busy_timeout", writer: false) == "0")
            await database.shutdown()
        }
    }

    @Test("values bind as sqlite-kit's encoder binds them, the common types without it")
    func bindEncoding() throws {
        let encoder = SQLiteSession.encoder
        let values: [any Encodable & Sendable] = [
            "text", "", 42, -7, Int64(1) << 40, String?.none, String?.some("x"), Int?.none, Int?.some(3),
            true, 2.5, Date(timeIntervalSince1970: 1_700_000_000), ["a", "b"],
        ]
        for value in values {
            #expect(try SQLiteSession.encode(value) == encoder.encode(value), "\(String(reflecting: value))")
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
            let bodies = try await Self.notes(in: database)
            #expect(bodies == ["after"])
            await database.shutdown()
        }
    }

    @Test("commits run on the caller's thread only while the file's commits have been quick")
    func commitPlacement() {
        let cost = CommitCost()
        #expect(!cost.isSmall, "a file's first commit goes to the blocking pool")
        cost.record(.microseconds(200))
        #expect(cost.isSmall)
        // One stalled flush moves the average past the bound; quick ones bring it back.
        cost.record(.milliseconds(50))
        #expect(!cost.isSmall)
        for _ in 0..<40 { cost.record(.microseconds(200)) }
        #expect(cost.isSmall)
        // A disk that is always slow keeps commits on the pool.
        for _ in 0..<40 { cost.record(.milliseconds(4)) }
        #expect(!cost.isSmall)
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

            let bodies = try await Self.notes(in: database)
            #expect(bodies == ["kept"])
            // Readers refuse to write.
            await #expect(throws: (any Error).self) {
                try await database.read { db in try await db.raw("INSERT INTO notes (body) VALUES ('sneaky')").run() }
            }
            await database.shutdown()
        }
    }

    @Test("transactions arriving while one runs share its successor's commit; one that fails is undone alone")
    func groupCommit() async throws {
        try await withTestSite(.sqlite) { site in
            let database = try await SQLiteDatabase.open(path: site.directory + "/g.sqlite", readerCount: 1, logger: TestLogs.quiet)
            try await database.transaction { db in try await db.raw("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)").run() }
            let commitsBefore = database.commits
            let holding = AsyncStream.makeStream(of: Void.self), release = AsyncStream.makeStream(of: Void.self)

            // One transaction holds the writer while twenty more queue behind it.
            let first = Task {
                try await database.transaction { db in
                    try await db.raw("INSERT INTO notes (body) VALUES ('first')").run()
                    holding.continuation.yield()
                    for await _ in release.stream { break }
                }
            }
            for await _ in holding.stream { break }
            let queued = (0..<20).map { index in
                Task {
                    try await database.transaction { db in
                        try await db.raw("INSERT INTO notes (body) VALUES (\(bind: "note \(index)"))").run()
                        if index % 7 == 3 { throw Refused() }
                    }
                }
            }
            while database.waitingWriters < 20 { try await Task.sleep(for: .milliseconds(5)) }
            release.continuation.yield()

            try await first.value
            var refused = 0
            for (index, task) in queued.enumerated() {
                do { try await task.value } catch is Refused { refused += 1; #expect(index % 7 == 3) }
            }
            let bodies = try await Self.notes(in: database)
            #expect(refused == 3)
            #expect(Set(bodies) == Set(["first"] + (0..<20).filter { $0 % 7 != 3 }.map { "note \($0)" }))
            // Twenty-one transactions, but the ones queued behind the first joined its commit.
            #expect(database.commits - commitsBefore <= 3)
            await database.shutdown()
        }
    }

    @Test("a write waits for a lock another connection holds, then succeeds")
    func waitsForLock() async throws {
        try await withTestSite(.sqlite) { site in
            let path = site.directory + "/l.sqlite"
            let database = try await SQLiteDatabase.open(path: path, readerCount: 1, logger: TestLogs.quiet)
            try await database.transaction { db in try await db.raw("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)").run() }
            // Another connection (as a CLI beside the server would) holds the write lock.
            let other = try SQLiteHandle(path: path)
            try other.execute("BEGIN IMMEDIATE")
            let started = ContinuousClock.now
            let write = Task { try await database.transaction { db in try await db.raw("INSERT INTO notes (body) VALUES ('waited')").run() } }
            try await Task.sleep(for: .milliseconds(300))
            try other.execute("COMMIT")
            other.close()

            try await write.value
            #expect(ContinuousClock.now - started >= .milliseconds(300))
            let bodies = try await Self.notes(in: database)
            #expect(bodies == ["waited"])
            await database.shutdown()
        }
    }
}

extension SQLiteDurabilityTests {
    @Test("checkpoints run beside the writer and the write-ahead log stays bounded while readers keep reading")
    func walStaysBounded() async throws {
        try await withTestSite(.sqlite) { site in
            let path = site.directory + "/w.sqlite"
            let database = try await SQLiteDatabase.open(path: path, readerCount: 2, logger: TestLogs.quiet)
            try await database.transaction { db in try await db.raw("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB NOT NULL)").run() }
            let reading = Task {
                while !Task.isCancelled {
                    _ = try? await database.read { db in try await db.raw("SELECT count(*) AS n FROM blobs").first() }
                    // A read may finish without suspending: let the writers have the thread.
                    await Task.yield()
                }
            }
            // About 50 MB through the log: twelve times the limit at which the writer catches up.
            let body = Data(repeating: 7, count: 32 * 1024)
            for _ in 0..<100 {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<16 {
                        group.addTask { try await database.transaction { db in try await db.raw("INSERT INTO blobs (body) VALUES (\(bind: body))").run() } }
                    }
                    try await group.waitForAll()
                }
            }
            reading.cancel()
            _ = await reading.result

            let walBytes = try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int ?? 0
            #expect(walBytes < (SQLiteCheckpointer.limitPages + 1_000) * 4_200, "the log reached \(walBytes) bytes")
            let count = try await database.read { db in try await db.raw("SELECT count(*) AS n FROM blobs").first()?.decode(column: "n", as: Int.self) }
            #expect(count == 1_600)
            await database.shutdown()
        }
    }
}

private struct Refused: Error {}
