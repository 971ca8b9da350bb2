import Foundation
import SQLKit
import Testing
import WardCore
import WardTestSupport
@testable import WardStorage

@Suite("Tenancy")
struct TenancyTests {
    @Test("a row written through tenant A's scope is invisible through B's", arguments: TestBackend.allCases)
    func isolation(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withStorage { storage in
                try await storage.tenants.create(slug: "alpha", name: "Alpha Clinic")
                try await storage.tenants.create(slug: "beta", name: "Beta Hospital")
                let alpha = try await storage.tenants.activeScope(slug: "alpha")
                let beta = try await storage.tenants.activeScope(slug: "beta")

                let table = try alpha.table("tenant_settings")
                try await alpha.transaction { database in
                    try await database.insert(into: table).columns("key", "value", "updated_at")
                        .values(SQLBind("report.email"), SQLBind("alpha@example.test"), SQLBind(Timestamp.now())).run()
                }

                let seenByAlpha = try await Self.settingKeys(alpha)
                let seenByBeta = try await Self.settingKeys(beta)
                #expect(seenByAlpha == ["report.email"])
                #expect(seenByBeta == [])
                // Inside B's transaction, an unqualified name resolves to B's own table too.
                let unqualified = try await beta.transaction { database in
                    try await database.raw("SELECT key FROM tenant_settings").all().count
                }
                #expect(unqualified == 0)
            }
        }
    }

    static func settingKeys(_ scope: TenantScope) async throws -> [String] {
        let table = try scope.table("tenant_settings")
        return try await scope.read { database in
            try await database.select().column("key").from(table).all().map { try $0.decode(column: "key", as: String.self) }
        }
    }

    @Test("each tenant gets its own file or schema", arguments: TestBackend.allCases)
    func placement(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withStorage { storage in
                try await storage.tenants.create(slug: "north-wing", name: "North Wing")
                let scope = try await storage.tenants.activeScope(slug: "north-wing")
                switch backend {
                case .sqlite:
                    #expect(FileManager.default.fileExists(atPath: site.directory + "/tenants/north-wing.sqlite"))
                    #expect(scope.schema == nil)
                case .postgres:
                    #expect(scope.schema == "t_north_wing")
                    let schemas = try await storage.controlPlane.read { database in
                        try await database.raw("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 't\\_%'").all()
                            .map { try $0.decode(column: "schema_name", as: String.self) }
                    }
                    #expect(schemas == ["t_north_wing"])
                }
                #expect((try scope.table("tenant_settings").space != nil) == (backend == .postgres))
            }
        }
    }

    @Test("slugs are validated and never reused", arguments: TestBackend.allCases)
    func slugs(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withStorage { storage in
                for bad in ["ab", "1clinic", "Clinic", "clinic_1", "clinic-", "a--b", "admin", String(repeating: "a", count: 41), "x y z"] {
                    await #expect(throws: TenantError.self, "\(bad)") { try await storage.tenants.create(slug: bad, name: "X") }
                }
                try await storage.tenants.create(slug: "gamma", name: "Gamma")
                await #expect(throws: TenantError.slugTaken("gamma")) { try await storage.tenants.create(slug: "gamma", name: "Again") }
                try await storage.tenants.setStatus("gamma", .deleted)
                await #expect(throws: TenantError.slugTaken("gamma")) { try await storage.tenants.create(slug: "gamma", name: "Again") }
                #expect(try await storage.tenants.list().map(\.slug) == ["gamma"])
            }
        }
    }

    @Test("a slug's rules, each refusal naming its reason, and its schema name")
    func slugRules() throws {
        for good in ["abc", "north-wing", "clinic-2", "a1-b2-c3", String(repeating: "a", count: 40)] {
            #expect(try TenantSlug(good).value == good)
        }
        let refusals: [(String, String)] = [
            ("ab", "3 to 40"), ("", "3 to 40"), ("1clinic", "start with"), ("-clinic", "start with"), ("Clinic", "start with"),
            ("clinic_1", "only lowercase"), ("clinicé", "only lowercase"), ("x y", "only lowercase"),
            ("clinic-", "end with a hyphen"), ("north--wing", "two in a row"), ("admin", "reserved"),
        ]
        for (bad, reason) in refusals {
            #expect {
                try TenantSlug(bad)
            } throws: { error in
                guard case TenantError.invalidSlug(let text, let message) = error else { return false }
                return text == bad && message.contains(reason)
            }
        }
        #expect(try TenantSlug("north-wing-2").schemaName == "t_north_wing_2")
    }

    @Test("unknown, suspended and deleted tenants are refused", arguments: TestBackend.allCases)
    func statuses(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withStorage { storage in
                try await storage.tenants.create(slug: "delta", name: "Delta")

                await #expect(throws: TenantError.notFound("nobody")) { _ = try await storage.tenants.activeScope(slug: "nobody") }
                try await storage.tenants.setStatus("delta", .suspended)
                await #expect(throws: TenantError.suspended("delta")) { _ = try await storage.tenants.activeScope(slug: "delta") }
                try await storage.tenants.setStatus("delta", .active)
                #expect(try await storage.tenants.activeScope(slug: "delta").tenant.status == .active)
            }
        }
    }

    @Test("a tenant whose database cannot be built leaves no file or schema and is marked failed", arguments: TestBackend.allCases)
    func failedCreation(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            let broken = Migration(50, "broken", ["CREATE TABLE x (id TEXT)", "SELECT no_such_function()"])
            try await site.withStorage(tenantMigrations: [broken]) { storage in

                await #expect(throws: (any Error).self) { try await storage.tenants.create(slug: "epsilon", name: "Epsilon") }

                #expect(try await storage.tenants.find(slug: "epsilon")?.status == .failed)
                switch backend {
                case .sqlite:
                    #expect(!FileManager.default.fileExists(atPath: site.directory + "/tenants/epsilon.sqlite"))
                case .postgres:
                    let count = try await storage.controlPlane.read { database in
                        try await database.raw("SELECT schema_name FROM information_schema.schemata WHERE schema_name = 't_epsilon'").all().count
                    }
                    #expect(count == 0)
                }
            }
        }
    }

    @Test("migrating all brings a tenant created by an older build up to date", arguments: TestBackend.allCases)
    func tenantMigrationsCatchUp(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withStorage { old in
                try await old.tenants.create(slug: "zeta", name: "Zeta")
            }
            let added = Migration(60, "create_rooms", ["CREATE TABLE rooms (id TEXT PRIMARY KEY)"])
            try await site.withStorage(tenantMigrations: [added]) { new in

                #expect(try await new.migrationsAreCurrent(tenantCheckInterval: .zero) == false)
                let report = try await new.migrateAll()

                #expect(report.first { $0.target == "tenant zeta" }?.applied.map(\.version) == [60])
                #expect(try await new.migrationsAreCurrent(tenantCheckInterval: .zero))
            }
        }
    }

    /// SQLite storage keeping at most `openFiles` tenant files open, letting go of one after
    /// 0.1 s (twice the request timeout), with a `notes` table in every tenant.
    static func withNotes(openFiles: Int, _ body: (Storage) async throws -> Void) async throws {
        try await withTestSite(.sqlite) { site in
            let settings = try site.settings(["WARD_SQLITE_OPEN_TENANTS": String(openFiles), "WARD_REQUEST_TIMEOUT": "0.05"])
            let notes = Migration(50, "notes", ["CREATE TABLE notes (body TEXT NOT NULL)"])
            try await site.withStorage(tenantMigrations: [notes], settings: settings, body)
        }
    }

    /// The notes of tenant `slug`, opening its file if it is closed.
    static func notes(of slug: String, in storage: Storage) async throws -> [String] {
        try await storage.tenants.activeScope(slug: slug).read { database in
            try await database.raw("SELECT body FROM notes").all().map { try $0.decode(column: "body", as: String.self) }
        }
    }

    @Test("beyond the open-file limit the least recently used tenant files close, stay closed for readiness, and reopen on next use")
    func openFileLimit() async throws {
        try await Self.withNotes(openFiles: 2) { storage in
            for slug in ["one", "two", "three", "four"] {
                try await storage.tenants.create(slug: slug, name: slug.capitalized)
                let scope = try await storage.tenants.activeScope(slug: slug)
                try await scope.transaction { database in try await database.raw("INSERT INTO notes (body) VALUES (\(bind: slug))").run() }
            }
            try await storage.migrateAll()
            try await Task.sleep(for: .milliseconds(400))

            #expect(storage.tenants.openFileCount == 2)
            // Readiness checks the open files' migrations without reopening the closed ones.
            #expect(try await storage.migrationsAreCurrent(tenantCheckInterval: .zero))
            #expect(storage.tenants.openFileCount == 2)
            for slug in ["one", "two", "three", "four"] {
                #expect(try await Self.notes(of: slug, in: storage) == [slug])
            }
        }
    }

    @Test("a migration walk holds each tenant's file for its turn, even when other tenants' use pushes it out meanwhile")
    func migrationWalkHoldsFiles() async throws {
        try await Self.withNotes(openFiles: 1) { storage in
            for slug in ["one", "two", "three", "other"] { try await storage.tenants.create(slug: slug, name: slug.capitalized) }
            var visited: [String] = []
            try await storage.forEachTenantMigrator { migrator in
                guard migrator.target.label != "tenant other" else { return true }
                // A request for another tenant pushes this one's file out of the open set, and
                // the migration outlasts the wait before a let-go file is closed.
                _ = try await storage.tenants.activeScope(slug: "other")
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await migrator.isCurrent())
                visited.append(migrator.target.label)
                return true
            }
            #expect(visited.sorted() == ["tenant one", "tenant three", "tenant two"])
        }
    }

    @Test("a file let go of stays open while a scope holds it, closes once none does, and is taken back if asked for meanwhile")
    func heldFiles() async throws {
        try await Self.withNotes(openFiles: 1) { storage in
            for slug in ["one", "two", "three"] { try await storage.tenants.create(slug: slug, name: slug.capitalized) }
            try await Task.sleep(for: .milliseconds(400))

            // A long export, say: it holds "one" while two other tenants push it out. The
            // scope lives in this function and is gone when it returns.
            func exportWhileOthersArrive() async throws {
                let held = try await storage.tenants.activeScope(slug: "one")
                _ = try await storage.tenants.activeScope(slug: "two")
                _ = try await storage.tenants.activeScope(slug: "three")
                try await Task.sleep(for: .milliseconds(400))
                #expect(storage.tenants.openFileCount == 2, "three open, one retiring but held")
                try await held.transaction { database in try await database.raw("INSERT INTO notes (body) VALUES ('late')").run() }
                withExtendedLifetime(held) {}
            }
            try await exportWhileOthersArrive()
            try await Task.sleep(for: .milliseconds(400))
            #expect(storage.tenants.openFileCount == 1, "one closed once nothing held it")

            // Asked for again before it closes, a retiring file is taken back, not opened twice.
            let three = try await storage.tenants.activeScope(slug: "three")
            let first = try #require(three.database as? SQLiteDatabase)
            _ = try await storage.tenants.activeScope(slug: "two")
            let again = try await storage.tenants.activeScope(slug: "three")
            #expect((again.database as? SQLiteDatabase) === first)
            #expect(try await Self.notes(of: "one", in: storage) == ["late"])
        }
    }
}
