package import Foundation
import Logging
package import SQLKit
import Synchronization
import WardCore

/// The control plane's register of tenants, and the door to each tenant's database: it
/// creates tenants, finds them (with a short cache), and hands out `TenantScope`s.
package final class TenantDirectory: Sendable {
    private let controlPlane: any Database
    private let controlSchema: String?
    private let layout: StorageLayout
    private let tenantMigrations: MigrationSet
    private let logger: Logger
    /// How long a looked-up tenant is trusted before the control plane is asked again: the
    /// bound on how late another node sees a suspension.
    package static let cacheLifetime: Duration = .seconds(5)
    private let cache = Mutex<[String: (tenant: Tenant, fetchedAt: ContinuousClock.Instant)]>([:])
    private let openFiles = Mutex<OpenFiles>(OpenFiles())
    /// How many tenant files stay open at most; the least recently used beyond it are closed.
    private let openFileLimit: Int
    /// How long a file let go of stays open, so requests and jobs holding its scope finish.
    private let retireAfter: Duration

    /// SQLite tenant files in use, with when each was last asked for, and files let go of but
    /// not yet closed, by slug.
    private struct OpenFiles {
        var files: [String: (task: Task<SQLiteDatabase, any Error>, usedAt: ContinuousClock.Instant)] = [:]
        var retiring: [String: SQLiteDatabase] = [:]
    }
    /// The scopes alive on each file: one let go of closes only once none is left.
    private let holds = FileHolds()
    /// Connections of every open tenant file, leased and awaited (SQLite; on PostgreSQL the
    /// tenants share the primary's pool).
    package let fileUsage = PoolUsage(size: 0)

    init(controlPlane: any Database, controlSchema: String?, layout: StorageLayout, tenantMigrations: MigrationSet, logger: Logger,
         openFileLimit: Int = 128, retireAfter: Duration = .seconds(60)) {
        self.controlPlane = controlPlane
        self.controlSchema = controlSchema
        self.layout = layout
        self.tenantMigrations = tenantMigrations
        self.logger = logger
        self.openFileLimit = max(1, openFileLimit)
        self.retireAfter = retireAfter
    }

    private func tenants() throws -> SQLQualifiedTable { SQLQualifiedTable("tenants", space: controlSchema) }

    // MARK: Looking tenants up

    /// Every tenant, in slug order.
    package func list() async throws -> [Tenant] {
        try await page(after: nil, limit: nil, status: nil)
    }

    /// Tenants in slug order after `cursor` (a slug), at most `limit`, of `status` if given.
    package func page(after cursor: String?, limit: Int?, status: Tenant.Status?) async throws -> [Tenant] {
        let table = try tenants()
        return try await controlPlane.read { database in
            let query = database.select().columns(Self.columns).from(table)
            if let cursor { query.where("slug", .greaterThan, cursor) }
            if let status { query.where("status", .equal, status.rawValue) }
            if let limit { query.limit(limit) }
            return try await query.orderBy("slug").all(decoding: Tenant.self)
        }
    }

    /// How many tenants are in each status.
    package func counts() async throws -> [Tenant.Status: Int] {
        let table = try tenants()
        let rows = try await controlPlane.read { database in
            try await database.raw("SELECT status, COUNT(*) AS n FROM \(table) GROUP BY status").all()
        }
        var counts: [Tenant.Status: Int] = [:]
        for row in rows {
            if let status = Tenant.Status(rawValue: try row.decode(column: "status", as: String.self)) {
                counts[status] = try row.decode(column: "n", as: Int.self)
            }
        }
        return counts
    }

    /// The tenant with `slug`, from the cache when fresh; nil when there is none.
    package func find(slug: String) async throws -> Tenant? {
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[slug] }), now - cached.fetchedAt < Self.cacheLifetime {
            return cached.tenant
        }
        let table = try tenants()
        let found = try await controlPlane.read { database in
            try await database.select().columns(Self.columns).from(table).where("slug", .equal, slug).first(decoding: Tenant.self)
        }
        cache.withLock { cache in
            if let found { cache[slug] = (found, now) } else { cache[slug] = nil }
        }
        return found
    }

    /// The tenant with `slug` as stored now, bypassing the cache; nil when there is none.
    package func fetch(slug: String) async throws -> Tenant? {
        let table = try tenants()
        return try await controlPlane.read { database in
            try await database.select().columns(Self.columns).from(table).where("slug", .equal, slug).first(decoding: Tenant.self)
        }
    }

    /// When this installation began: its control plane's first migration. Nil before any.
    package func installedAt() async throws -> Date? {
        let record = SQLQualifiedTable(Migrator.recordTable, space: controlSchema)
        return try await controlPlane.read { database in
            try await database.raw("SELECT MIN(applied_at) AS first FROM \(record)").first()?.decode(column: "first", as: String?.self)
        }.flatMap(Timestamp.date)
    }

    /// The scope of `tenant` under the schema owner, for the maintenance the serving role may not
    /// do (removing audit events past retention); the ordinary scope where one role does all.
    package func maintenanceScope(for tenant: Tenant) async throws -> TenantScope {
        guard case .postgres(let shards) = layout else { return try await scope(for: tenant) }
        let owner = try await shards.cluster(named: tenant.shard).owner
        guard owner.servingRole != nil else { return try await scope(for: tenant) }
        return TenantScope(tenant: tenant, database: owner.database, schema: try TenantSlug(tenant.slug).schemaName)
    }

    /// The scope of an active tenant; throws `notFound`, `suspended` or `unavailable` otherwise.
    package func activeScope(slug: String) async throws -> TenantScope {
        guard let tenant = try await find(slug: slug) else { throw TenantError.notFound(slug) }
        switch tenant.status {
        case .active: return try await scope(for: tenant)
        case .suspended: throw TenantError.suspended(slug)
        case .deleted: throw TenantError.notFound(slug)
        default: throw TenantError.unavailable(slug, tenant.status)
        }
    }

    /// The scope of `tenant` once the control plane places it on another shard than the one it
    /// had (its move switched it): asked every 100 ms, bypassing the cache, for up to five
    /// seconds, which a move's switch takes at most after it refuses writes on the old shard.
    func relocated(_ tenant: Tenant) async throws -> TenantScope {
        for _ in 0..<50 {
            if let moved = try await relocatedNow(tenant) { return moved }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TenantMoved(slug: tenant.slug)
    }

    /// The scope of `tenant` on another shard if the control plane, asked now past the cache,
    /// places it there; nil while it names the same shard.
    func relocatedNow(_ tenant: Tenant) async throws -> TenantScope? {
        cache.withLock { _ = $0.removeValue(forKey: tenant.slug) }
        guard let current = try await fetch(slug: tenant.slug), current.shard != tenant.shard else { return nil }
        cache.withLock { $0[tenant.slug] = (current, .now) }
        return try await scope(for: current)
    }

    /// The scope of `tenant`, whatever its status (for operators and migrations).
    package func scope(for tenant: Tenant) async throws -> TenantScope {
        let slug = try TenantSlug(tenant.slug)
        switch layout {
        case .postgres(let shards):
            let cluster = try await shards.cluster(named: tenant.shard)
            var scope = TenantScope(tenant: tenant, database: cluster.serving, schema: slug.schemaName, replicas: cluster.replicas)
            scope.relocation = Relocation({ [self] in try await relocated(tenant) }, check: { [self] in try await relocatedNow(tenant) })
            return scope
        case .sqlite(let directory, let readers):
            let file = try await sqliteFile(slug: slug, directory: directory, readers: readers)
            return TenantScope(tenant: tenant, database: file, schema: nil, hold: holds.hold(file))
        }
    }

    /// Opens each tenant file once and shares it: SQLite wants one writer per file. Beyond
    /// `openFileLimit` files, the least recently used is let go of and closed a little later.
    private func sqliteFile(slug: TenantSlug, directory: String, readers: Int) async throws -> SQLiteDatabase {
        let logger = self.logger
        let now = ContinuousClock.now
        let (task, evicted) = openFiles.withLock { open -> (Task<SQLiteDatabase, any Error>, (String, Task<SQLiteDatabase, any Error>)?) in
            if let existing = open.files[slug.value] {
                open.files[slug.value]?.usedAt = now
                return (existing.task, nil)
            }
            let task: Task<SQLiteDatabase, any Error>
            if let retiring = open.retiring.removeValue(forKey: slug.value) {
                // Let go of but not closed yet: taken back, never a second handle on one file.
                task = Task { retiring }
            } else {
                let path = Self.sqlitePath(directory: directory, slug: slug)
                let usage = fileUsage
                task = Task { try await SQLiteDatabase.open(path: path, readerCount: readers, usage: usage, logger: logger) }
            }
            open.files[slug.value] = (task, now)
            guard open.files.count > openFileLimit, let oldest = open.files.min(by: { $0.value.usedAt < $1.value.usedAt }) else { return (task, nil) }
            open.files[oldest.key] = nil
            return (task, (oldest.key, oldest.value.task))
        }
        if let evicted { retire(evicted.1, slug: evicted.0) }
        do {
            return try await task.value
        } catch {
            openFiles.withLock { open in
                if open.files[slug.value]?.task == task { open.files[slug.value] = nil }
            }
            throw error
        }
    }

    /// Closes a file no longer in the open set once no scope holds it: checked every
    /// `retireAfter`, so a request or job that took its scope just before finishes first. A
    /// file asked for again meanwhile is taken back (`sqliteFile`) and not closed.
    private func retire(_ task: Task<SQLiteDatabase, any Error>, slug: String) {
        let delay = retireAfter, holds = self.holds
        Task {
            guard let database = try? await task.value else { return }
            openFiles.withLock { $0.retiring[slug] = database }
            while true {
                try? await Task.sleep(for: delay)
                let close = openFiles.withLock { open -> Bool? in
                    guard open.retiring[slug] === database else { return nil }
                    if holds.isHeld(database) { return false }
                    open.retiring[slug] = nil
                    return true
                }
                guard let close else { return }
                if close { break }
            }
            await database.shutdown()
            #if os(Linux)
            // Once the last file let go of is closed, not after each of a burst.
            if openFiles.withLock({ $0.retiring.isEmpty }) { _ = releaseFreedMemory(0) }
            #endif
        }
    }

    /// Whether the tenant's database is at hand without opening anything: always on
    /// PostgreSQL (a schema in an open pool), on SQLite when its file is open.
    package func isOpen(_ slug: String) -> Bool {
        guard case .sqlite = layout else { return true }
        return openFiles.withLock { $0.files[slug] != nil }
    }

    /// How many tenant files are open (retiring ones included).
    package var openFileCount: Int { openFiles.withLock { $0.files.count + $0.retiring.count } }

    static func sqlitePath(directory: String, slug: TenantSlug) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent("tenants/\(slug.value).sqlite").path
    }

    // MARK: Creating and changing tenants

    /// Reserves `slug` for a new tenant in state `status` (slugs are never reused, so a taken
    /// slug is refused whatever became of its tenant).
    @discardableResult
    package func reserve(slug text: String, name: String, timeZone: String = "UTC", status: Tenant.Status = .pending) async throws -> Tenant {
        try await reserve(slug: text, name: name, timeZone: timeZone, status: status) { _, _ in }.tenant
    }

    /// Reserves as above and runs `alongside` in the same control-plane transaction (queueing
    /// the tenant's provisioning, say): both happen, or neither does.
    package func reserve<Extra: Sendable>(
        slug text: String, name: String, timeZone: String = "UTC", status: Tenant.Status = .pending,
        alongside: @escaping @Sendable (any SQLDatabase, Tenant) async throws -> Extra
    ) async throws -> (tenant: Tenant, extra: Extra) {
        let slug = try TenantSlug(text)
        let trimmedName = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmedName.isEmpty, trimmedName.count <= 200 else {
            throw TenantError.invalidName(slug.value)
        }
        guard TimeZone(identifier: timeZone) != nil else { throw TenantError.invalidTimeZone(timeZone) }
        let now = Timestamp.now()
        let tenant = Tenant(
            id: UUIDv7.id(), slug: slug.value, name: trimmedName, status: status,
            shard: "primary", timeZone: timeZone, createdAt: now, updatedAt: now
        )
        let table = try tenants()
        let reserved = try await controlPlane.transaction { [tenant] database -> Extra? in
            let existing = try await database.select().column("id").from(table).where("slug", .equal, tenant.slug).first()
            if existing != nil { return nil }
            try await database.insert(into: table).model(tenant).run()
            return try await alongside(database, tenant)
        }
        guard let reserved else { throw TenantError.slugTaken(slug.value) }
        logger.info("tenant reserved", metadata: ["tenant_id": "\(slug.value)"])
        return (tenant, reserved)
    }

    /// Places a tenant on shard `named`, or else on the shard holding the fewest live tenants
    /// of those taking new ones, and returns the shard.
    @discardableResult
    package func placeOnShard(_ slug: String, named: String? = nil) async throws -> String {
        let table = try tenants(), shards = SQLQualifiedTable("shards", space: controlSchema)
        if named != nil, case .sqlite = layout, named != ShardSet.primaryName { throw ShardError.sqlite }
        return try await controlPlane.transaction { database in
            let shard: String
            if let named {
                guard try await database.raw("SELECT name FROM \(shards) WHERE name = \(bind: named)").first() != nil else {
                    throw ShardError.unknown(named)
                }
                shard = named
            } else {
                let row = try await database.raw("""
                    SELECT s.name FROM \(shards) s LEFT JOIN \(table) t ON t.shard = s.name AND t.status <> 'deleted' AND t.slug <> \(bind: slug)
                    WHERE s.accepts_tenants <> 0
                    GROUP BY s.name ORDER BY COUNT(t.id), s.name LIMIT 1
                    """).first()
                guard let name = try row?.decode(column: "name", as: String.self) else { throw ShardError.noneOpen }
                shard = name
            }
            try await database.update(table).set("shard", to: shard).set("updated_at", to: Timestamp.now()).where("slug", .equal, slug).run()
            return shard
        }
    }

    /// Creates the tenant's database (a schema, or a file) if it does not exist yet.
    package func createDatabase(for tenant: Tenant) async throws {
        let slug = try TenantSlug(tenant.slug)
        switch layout {
        case .postgres(let shards):
            let owner = try await shards.cluster(named: tenant.shard).owner
            let schema = try SQLIdentifierName.validated(slug.schemaName)
            try await owner.database.transaction { db in try await db.raw("CREATE SCHEMA IF NOT EXISTS \(ident: schema)").run() }
        case .sqlite(let directory, let readers):
            _ = try await sqliteFile(slug: slug, directory: directory, readers: readers)
        }
    }

    /// Brings the tenant's database up to this build's migrations, all in one transaction (a
    /// tenant being created gets its whole schema or none of it).
    package func migrate(_ tenant: Tenant) async throws {
        try await Migrator(tenantMigrations, on: try await migrationTarget(for: tenant)).apply(together: true)
    }

    /// When the tenant's SQLite file or its write-ahead log was last modified, read from the file
    /// system without opening the database; nil on PostgreSQL, where a schema keeps no such time.
    package func lastWritten(_ tenant: Tenant) throws -> Date? {
        guard case .sqlite(let directory, _) = layout else { return nil }
        let path = Self.sqlitePath(directory: directory, slug: try TenantSlug(tenant.slug))
        return [path, path + "-wal"].compactMap { file in
            (try? FileManager.default.attributesOfItem(atPath: file))?[.modificationDate] as? Date
        }.max()
    }

    /// Whether the tenant's database (schema or file) exists.
    package func databaseExists(_ slug: String) async throws -> Bool {
        let slug = try TenantSlug(slug)
        switch layout {
        case .postgres(let shards):
            let database = try await shards.cluster(named: try await fetch(slug: slug.value)?.shard ?? ShardSet.primaryName).serving
            return try await database.read { db in
                try await db.raw("SELECT 1 AS present FROM information_schema.schemata WHERE schema_name = \(bind: slug.schemaName)").first() != nil
            }
        case .sqlite(let directory, _):
            return FileManager.default.fileExists(atPath: Self.sqlitePath(directory: directory, slug: slug))
        }
    }

    /// Creates a tenant in one go, without a job: reserves the slug, places it, creates and
    /// migrates its database and marks it active. On failure the database is removed again and
    /// the tenant is left `failed`, its slug still reserved. Provisioning proper (with recorded
    /// steps, an administrator and retries) is the platform module's; this is its storage core.
    @discardableResult
    package func create(slug text: String, name: String, timeZone: String = "UTC") async throws -> Tenant {
        var tenant = try await reserve(slug: text, name: name, timeZone: timeZone, status: .provisioning)
        do {
            tenant.shard = try await placeOnShard(tenant.slug)
            try await createDatabase(for: tenant)
            try await migrate(tenant)
        } catch {
            logger.error("tenant database creation failed; removing it", metadata: ["tenant_id": "\(tenant.slug)", "error": "\(error)"])
            await removeDatabase(of: try TenantSlug(tenant.slug))
            _ = try? await update(tenant.slug, status: .failed, lastError: .some(String(describing: error)))
            throw error
        }
        let active = try await setStatus(tenant.slug, .active)
        logger.info("tenant active", metadata: ["tenant_id": "\(tenant.slug)"])
        return active
    }

    /// Changes a tenant's status and returns the tenant as stored.
    @discardableResult
    package func setStatus(_ slug: String, _ status: Tenant.Status) async throws -> Tenant {
        try await update(slug, status: status)
    }

    /// Changes what is given of a tenant's lifecycle fields (a double optional sets a column to
    /// NULL with `.some(nil)`) and returns the tenant as stored. With `from`, the change happens
    /// only while the tenant is in one of those states (of two racing requests one moves it, the
    /// other gets `wrongState` naming `action`).
    @discardableResult
    package func update(
        _ slug: String, from allowed: Set<Tenant.Status>? = nil, action: String = "changed", status: Tenant.Status? = nil,
        lastError: String?? = nil, deletedAt: String?? = nil, purgeAfter: String?? = nil
    ) async throws -> Tenant {
        try await update(slug, from: allowed, action: action, status: status, lastError: lastError, deletedAt: deletedAt, purgeAfter: purgeAfter) { _, _ in }.tenant
    }

    /// Updates as above and runs `alongside` on the updated tenant in the same control-plane
    /// transaction: both happen, or neither does.
    package func update<Extra: Sendable>(
        _ slug: String, from allowed: Set<Tenant.Status>? = nil, action: String = "changed", status: Tenant.Status? = nil,
        lastError: String?? = nil, deletedAt: String?? = nil, purgeAfter: String?? = nil,
        alongside: @escaping @Sendable (any SQLDatabase, Tenant) async throws -> Extra
    ) async throws -> (tenant: Tenant, extra: Extra) {
        let table = try tenants()
        let updated = try await controlPlane.transaction { database -> (Tenant, Extra)? in
            let query = database.update(table).set("updated_at", to: Timestamp.now())
            if let status { query.set("status", to: status.rawValue) }
            for (column, value) in [("last_error", lastError), ("deleted_at", deletedAt), ("purge_after", purgeAfter)] {
                guard let value else { continue }
                if let text = value { query.set(column, to: text) } else { query.set(column, to: SQLLiteral.null) }
            }
            query.where("slug", .equal, slug)
            if let allowed { query.where("status", .in, allowed.map(\.rawValue).sorted()) }
            // Whether this statement changed the row decides, not the status read back: two
            // racing retries must not both succeed.
            let changed = try await query.returning("id").first() != nil
            let stored = try await database.select().columns(Self.columns).from(table).where("slug", .equal, slug).first(decoding: Tenant.self)
            if let stored, !changed, allowed != nil {
                throw TenantError.wrongState(slug, stored.status, action)
            }
            guard let stored else { return nil }
            return (stored, try await alongside(database, stored))
        }
        cache.withLock { _ = $0.removeValue(forKey: slug) }
        guard let updated else { throw TenantError.notFound(slug) }
        return updated
    }

    /// Removes a tenant's database (schema or file) entirely; nothing of it remains.
    package func removeDatabase(of slug: TenantSlug) async {
        switch layout {
        case .postgres(let shards):
            do {
                let owner = try await shards.cluster(named: try await fetch(slug: slug.value)?.shard ?? ShardSet.primaryName).owner
                let schema = try SQLIdentifierName.validated(slug.schemaName)
                try await owner.database.transaction { db in try await db.raw("DROP SCHEMA IF EXISTS \(ident: schema) CASCADE").run() }
            } catch {
                logger.error("could not drop tenant schema", metadata: ["tenant_id": "\(slug.value)", "error": "\(error)"])
            }
        case .sqlite(let directory, _):
            let (task, retiring) = openFiles.withLock { ($0.files.removeValue(forKey: slug.value)?.task, $0.retiring.removeValue(forKey: slug.value)) }
            if let task, let file = try? await task.value { await file.shutdown() }
            if let retiring { await retiring.shutdown() }
            let path = Self.sqlitePath(directory: directory, slug: slug)
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
    }

    // MARK: Backups

    /// Where a tenant's data lies, for backups: its SQLite file, or its schema in a PostgreSQL
    /// database.
    package enum Placement: Sendable {
        case sqliteFile(path: String)
        case postgresSchema(database: any Database, schema: String)
    }

    /// Where `slug`'s data lies (whether it exists yet or not): on PostgreSQL, the owner's pool
    /// of the shard the control plane places it on.
    package func placement(of slug: TenantSlug) async throws -> Placement {
        switch layout {
        case .postgres(let shards):
            let shard = try await fetch(slug: slug.value)?.shard ?? ShardSet.primaryName
            return .postgresSchema(database: try await shards.cluster(named: shard).owner.database, schema: slug.schemaName)
        case .sqlite(let directory, _):
            return .sqliteFile(path: Self.sqlitePath(directory: directory, slug: slug))
        }
    }

    /// Puts a copy of a tenant's SQLite file in place at `path` (its `placement`), where no
    /// database may be yet: the file is moved in whole, after any write-ahead log of an earlier
    /// file of the name is gone, so the node opens exactly the copy.
    package static func installSQLiteFile(_ copy: String, at path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw StorageError.closed("a database file is already at \(path)") }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        try FileManager.default.moveItem(atPath: copy, toPath: path)
    }

    // MARK: Migrations

    /// The migration target of a tenant, holding its file open (on SQLite) while it lives.
    package func migrationTarget(for tenant: Tenant) async throws -> MigrationTarget {
        let scope = try await scope(for: tenant)
        guard case .postgres(let shards) = layout else {
            return MigrationTarget(database: scope.database, schema: scope.schema, label: "tenant \(tenant.slug)", servingRole: nil, hold: scope.hold)
        }
        let owner = try await shards.cluster(named: tenant.shard).owner
        return MigrationTarget(database: owner.database, schema: scope.schema, label: "tenant \(tenant.slug)", servingRole: owner.servingRole, hold: nil)
    }

    /// The tenant migrations this build ships.
    package var migrations: MigrationSet { tenantMigrations }

    /// Moves of tenants between shards (PostgreSQL only).
    package func mover() throws -> TenantMove {
        guard case .postgres(let shards) = layout else { throw ShardError.sqlite }
        return TenantMove(directory: self, shards: shards, controlPlane: controlPlane, controlSchema: controlSchema, logger: logger)
    }

    /// Points tenant `slug` at `shard` (the switch of a move).
    func setShard(_ slug: String, to shard: String) async throws {
        let table = try tenants()
        try await controlPlane.transaction { database in
            try await database.update(table).set("shard", to: shard).set("updated_at", to: Timestamp.now()).where("slug", .equal, slug).run()
        }
        cache.withLock { _ = $0.removeValue(forKey: slug) }
    }

    /// The PostgreSQL clusters tenants live on; nil on SQLite.
    package var shards: ShardSet? {
        guard case .postgres(let shards) = layout else { return nil }
        return shards
    }

    /// Closes every tenant file this directory opened, and the pools of other shards.
    func shutdown() async {
        await shards?.shutdown()
        let (tasks, retiring) = openFiles.withLock { open in
            defer { open = OpenFiles() }
            return (open.files.values.map(\.task), Array(open.retiring.values))
        }
        for task in tasks { await (try? await task.value)?.shutdown() }
        for database in retiring { await database.shutdown() }
    }

    private static let columns = ["id", "slug", "name", "status", "shard", "time_zone", "created_at", "updated_at", "last_error", "deleted_at", "purge_after"]
}

/// Where tenant databases live.
enum StorageLayout: Sendable {
    /// Every tenant a schema on the PostgreSQL cluster of its shard, created, migrated and
    /// dropped by that cluster's schema owner.
    case postgres(ShardSet)
    /// Every tenant a file under this data directory.
    case sqlite(dataDirectory: String, readers: Int)
}

/// Who owns Ward's PostgreSQL schemas: the database migrations, provisioning and purges run on,
/// and the role serving requests when that is another (it is then granted what it needs).
package struct SchemaOwner: Sendable {
    package let database: any Database
    package let servingRole: String?

    package init(database: any Database, servingRole: String?) {
        self.database = database
        self.servingRole = servingRole
    }
}

#if os(Linux)
/// glibc's `malloc_trim`: hands freed heap pages back to the kernel. A closed SQLite file frees
/// its page cache and schema, but glibc keeps freed memory in its arenas unless asked (measured:
/// 300 provisioned tenants settle at 173 MiB without it, 110 MiB with it).
@_silgen_name("malloc_trim")
private func releaseFreedMemory(_ pad: Int) -> Int32
#endif

/// How many scopes are alive on each open SQLite tenant file.
final class FileHolds: Sendable {
    private let counts = Mutex<[ObjectIdentifier: Int]>([:])

    /// A hold on `database`, released when the last copy of the scope carrying it is gone.
    func hold(_ database: SQLiteDatabase) -> FileHold {
        let key = ObjectIdentifier(database)
        counts.withLock { $0[key, default: 0] += 1 }
        return FileHold(holds: self, key: key)
    }

    func isHeld(_ database: SQLiteDatabase) -> Bool {
        counts.withLock { $0[ObjectIdentifier(database)] != nil }
    }

    fileprivate func release(_ key: ObjectIdentifier) {
        counts.withLock { counts in
            guard let count = counts[key] else { return }
            counts[key] = count > 1 ? count - 1 : nil
        }
    }
}

/// One scope's hold on its tenant's file (see `FileHolds`).
final class FileHold: Sendable {
    private let holds: FileHolds
    private let key: ObjectIdentifier

    fileprivate init(holds: FileHolds, key: ObjectIdentifier) {
        self.holds = holds
        self.key = key
    }

    deinit { holds.release(key) }
}
