import Foundation
import SQLKit
import Testing
import WardCore
import WardTestSupport
@testable import WardStorage

@Suite("Migrations")
struct MigrationTests {
    static let first = Migration(1, "create_wards", ["CREATE TABLE wards (id TEXT PRIMARY KEY, name TEXT NOT NULL)"])
    static let second = Migration(2, "add_ward_floor", ["ALTER TABLE wards ADD COLUMN floor INTEGER"])

    static func count(_ table: String, on target: MigrationTarget) async throws -> Int? {
        try await target.database.transaction(searchPath: target.schema) { database in
            do { return try await database.raw(SQLQueryString("SELECT * FROM \(unsafeRaw: table)")).all().count } catch { return nil }
        }
    }

    @Test("apply runs pending migrations once; plan and check see what is left", arguments: TestBackend.allCases)
    func applyPlanCheck(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withScratchTargets { targets in
                let v1 = Migrator(MigrationSet(plane: "test", [Self.first]), on: targets[0])

                #expect(try await v1.plan().map(\.version) == [1])
                #expect(try await v1.isCurrent() == false)
                #expect(try await v1.apply().map(\.version) == [1])
                #expect(try await v1.apply().isEmpty)
                #expect(try await v1.isCurrent())

                let v2 = Migrator(MigrationSet(plane: "test", [Self.first, Self.second]), on: targets[0])
                #expect(try await v2.plan().map(\.name) == ["add_ward_floor"])
                try await v2.apply()
                #expect(try await v2.status().map(\.status) == [.applied, .applied])
                try await targets[0].database.transaction(searchPath: targets[0].schema) { database in
                    try await database.raw("INSERT INTO wards (id, name, floor) VALUES ('w1', 'Cardiology', 3)").run()
                }
                #expect(try await Self.count("wards", on: targets[0]) == 1)
            }
        }
    }

    @Test("an applied migration whose text changed is refused, naming it", arguments: TestBackend.allCases)
    func changedMigration(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withScratchTargets { targets in
                try await Migrator(MigrationSet(plane: "test", [Self.first]), on: targets[0]).apply()
                let edited = Migration(1, "create_wards", ["CREATE TABLE wards (id TEXT PRIMARY KEY, name TEXT)"])
                let migrator = Migrator(MigrationSet(plane: "test", [edited, Self.second]), on: targets[0])

                await #expect(throws: MigrationError.changedAfterApply(target: "scratch", version: 1, name: "create_wards")) {
                    try await migrator.apply()
                }
                await #expect(throws: MigrationError.self) { _ = try await migrator.plan() }
                // Nothing after the refused migration ran: `floor` does not exist.
                let floorExists = try await targets[0].database.transaction(searchPath: targets[0].schema) { database in
                    do { _ = try await database.raw("SELECT floor FROM wards").all(); return true } catch { return false }
                }
                #expect(floorExists == false)
            }
        }
    }

    @Test("a newer build's expanding migration leaves this build running; a contracting or unrecorded one is refused, naming both builds",
          arguments: TestBackend.allCases)
    func unknownApplied(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withScratchTargets { targets in
                try await Migrator(MigrationSet(plane: "test", [Self.first, Self.second]), on: targets[0]).apply()
                // The release before `second` runs on the schema `second` expanded.
                #expect(try await Migrator(MigrationSet(plane: "test", [Self.first]), on: targets[0]).plan().isEmpty)
                let contracting = Migration(3, "drop_ward_floor", ["ALTER TABLE wards DROP COLUMN floor"], contracts: "the previous release reads floor")
                try await Migrator(MigrationSet(plane: "test", [Self.first, Self.second, contracting]), on: targets[0]).apply()
                await #expect(throws: MigrationError.unknownApplied(target: "scratch", version: 3, name: "drop_ward_floor", appliedBy: WardBuild.version)) {
                    _ = try await Migrator(MigrationSet(plane: "test", [Self.first, Self.second]), on: targets[0]).plan()
                }
                // A record without its phase (an earlier build wrote it) is refused too; the message names both builds.
                try await targets[0].database.transaction(searchPath: targets[0].schema) { database in
                    try await database.raw("UPDATE ward_migrations SET ward_version = '9.1.0', expands = NULL WHERE version = 2").run()
                }
                do {
                    _ = try await Migrator(MigrationSet(plane: "test", [Self.first]), on: targets[0]).plan()
                    Issue.record("a newer schema was accepted")
                } catch let error as MigrationError {
                    #expect(error.description.contains("applied by Ward 9.1.0") && error.description.contains("this is Ward \(WardBuild.version)"))
                }
            }
        }
    }

    @Test("statements the previous release cannot run beside are found; additions are not")
    func contracting() {
        let expanding = Migration(1, "expand", [
            "CREATE TABLE wards (id TEXT PRIMARY KEY)", "ALTER TABLE wards ADD COLUMN floor INTEGER", "CREATE INDEX wards_floor ON wards (floor)",
            "ALTER TABLE wards ADD COLUMN wing TEXT NOT NULL DEFAULT 'north'", "DROP INDEX wards_floor", "UPDATE wards SET floor = 0 WHERE floor IS NULL",
        ])
        #expect(expanding.contractingStatements().isEmpty)
        for statement in ["DROP TABLE wards", "ALTER TABLE wards DROP COLUMN floor", "ALTER TABLE wards RENAME COLUMN floor TO level",
                          "ALTER TABLE wards RENAME TO units", "ALTER TABLE wards ALTER COLUMN floor TYPE BIGINT",
                          "ALTER TABLE wards ALTER COLUMN floor SET NOT NULL", "ALTER TABLE wards ADD COLUMN wing TEXT NOT NULL",
                          "DELETE FROM wards", "TRUNCATE wards"] {
            #expect(Migration(2, "contract", [statement]).contractingStatements() == [statement, statement], "\(statement)")
        }
    }

    @Test("a failing migration leaves nothing behind and is not recorded", arguments: TestBackend.allCases)
    func failingMigrationRollsBack(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withScratchTargets { targets in
                let broken = Migration(1, "half_done", [
                    "CREATE TABLE beds (id TEXT PRIMARY KEY)",
                    "INSERT INTO no_such_table VALUES (1)",
                ])

                await #expect(throws: (any Error).self) {
                    try await Migrator(MigrationSet(plane: "test", [broken]), on: targets[0]).apply()
                }

                let beds = try await Self.count("beds", on: targets[0])
                let pending = try await Migrator(MigrationSet(plane: "test", [Self.first]), on: targets[0]).plan()
                #expect(beds == nil)
                #expect(pending.map(\.version) == [1])
            }
        }
    }

    @Test("two nodes migrating at once apply each migration once", arguments: TestBackend.allCases)
    func concurrentMigrators(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withScratchTargets(2) { targets in
                let set = MigrationSet(plane: "test", [Self.first, Self.second])

                async let one = Migrator(set, on: targets[0]).apply()
                async let two = Migrator(set, on: targets[1]).apply()
                let ran = try await one.map(\.version) + two.map(\.version)

                #expect(ran.sorted() == [1, 2])
                #expect(try await Migrator(set, on: targets[0]).isCurrent())
            }
        }
    }

    @Test("on PostgreSQL the control plane's migrations have a point read of a small table take its key's index, unless the database chose a cost",
          arguments: [nil, "4"])
    func pointReadsByIndex(chosen: String?) async throws {
        try await withTestSite(.postgres) { site in
            guard let name = site.databaseName else { return }
            // Each call is a session of its own (a database's settings reach new sessions only);
            // its statements run in one transaction and the last one's rows are returned.
            func run(_ statements: String...) async throws -> [String] {
                var rows: [String] = []
                try await site.withScratchTargets { targets in
                    rows = try await targets[0].database.transaction(searchPath: nil) { database in
                        var last: [any SQLRow] = []
                        for statement in statements { last = try await database.raw(SQLQueryString(statement)).all() }
                        return try last.map { try $0.decode(column: $0.allColumns[0], as: String.self) }
                    }
                }
                return rows
            }
            if let chosen { _ = try await run("ALTER DATABASE \"\(name)\" SET random_page_cost = \(chosen)") }

            try await site.withStorage { _ in }

            let setting = try await run("""
                SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting
                WHERE setrole = 0 AND setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
                """)
            #expect(setting == ["random_page_cost=\(chosen ?? "1.1")"])
            // Through PgBouncer a server session may predate the setting.
            guard !TestPostgresServer.throughPgBouncer else { return }
            // A clinic's hundred patients: a few pages.
            let plan = try await run(
                "CREATE TEMPORARY TABLE clinic_patients AS SELECT 'p' || n AS id, repeat('x', 400) AS address FROM generate_series(1, 100) n",
                "ALTER TABLE clinic_patients ADD PRIMARY KEY (id)",
                "ANALYZE clinic_patients",
                "EXPLAIN SELECT * FROM clinic_patients WHERE id = 'p50'"
            )
            #expect(plan.first?.hasPrefix(chosen == nil ? "Index Scan" : "Seq Scan") == true, "\(plan)")
        }
    }
}
