import Foundation
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
    private let openFiles = Mutex<[String: Task<SQLiteDatabase, any Error>]>([:])

    init(controlPlane: any Database, controlSchema: String?, layout: StorageLayout, tenantMigrations: MigrationSet, logger: Logger) {
        self.controlPlane = controlPlane
        self.controlSchema = controlSchema
        self.layout = layout
        self.tenantMigrations = tenantMigrations
        self.logger = logger
    }

    private func tenants() throws -> SQLQualifiedTable { SQLQualifiedTable("tenants", space: controlSchema) }

    // MARK: Looking tenants up

    /// Every tenant, in slug order.
    package func list() async throws -> [Tenant] {
        let table = try tenants()
        return try await controlPlane.read { database in
            try await database.select().columns(Self.columns).from(table).orderBy("slug").all(decoding: Tenant.self)
        }
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

    /// The scope of `tenant`, whatever its status (for operators and migrations).
    package func scope(for tenant: Tenant) async throws -> TenantScope {
        let slug = try TenantSlug(tenant.slug)
        switch layout {
        case .postgres(let database, _):
            return TenantScope(tenant: tenant, database: database, schema: slug.schemaName)
        case .sqlite(let directory, let readers):
            let file = try await sqliteFile(slug: slug, directory: directory, readers: readers)
            return TenantScope(tenant: tenant, database: file, schema: nil)
        }
    }

    /// Opens each tenant file once and shares it: SQLite wants one writer per file.
    private func sqliteFile(slug: TenantSlug, directory: String, readers: Int) async throws -> SQLiteDatabase {
        let logger = self.logger
        let task = openFiles.withLock { files in
            if let existing = files[slug.value] { return existing }
            let path = Self.sqlitePath(directory: directory, slug: slug)
            let task = Task { try await SQLiteDatabase.open(path: path, readerCount: readers, logger: logger) }
            files[slug.value] = task
            return task
        }
        do {
            return try await task.value
        } catch {
            openFiles.withLock { _ = $0.removeValue(forKey: slug.value) }
            throw error
        }
    }

    static func sqlitePath(directory: String, slug: TenantSlug) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent("tenants/\(slug.value).sqlite").path
    }

    // MARK: Creating and changing tenants

    /// Creates a tenant: reserves the slug, creates its database (file or schema), migrates it
    /// and marks it active. On failure the database is removed again and the tenant is left
    /// `failed`, its slug still reserved.
    @discardableResult
    package func create(slug text: String, name: String, timeZone: String = "UTC") async throws -> Tenant {
        let slug = try TenantSlug(text)
        let trimmedName = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmedName.isEmpty, trimmedName.count <= 200 else {
            throw TenantError.invalidName(slug.value)
        }
        guard TimeZone(identifier: timeZone) != nil else { throw TenantError.invalidTimeZone(timeZone) }
        let now = Timestamp.now()
        var tenant = Tenant(
            id: UUIDv7.make().uuidString.lowercased(), slug: slug.value, name: trimmedName, status: .provisioning,
            shard: "primary", timeZone: timeZone, createdAt: now, updatedAt: now
        )
        let table = try tenants()
        let reserved = try await controlPlane.transaction { [tenant] database in
            let existing = try await database.select().column("id").from(table).where("slug", .equal, tenant.slug).first()
            if existing != nil { return false }
            try await database.insert(into: table).model(tenant).run()
            return true
        }
        guard reserved else { throw TenantError.slugTaken(slug.value) }
        logger.info("tenant reserved", metadata: ["tenant_id": "\(slug.value)"])
        do {
            let scope = try await scope(for: tenant)
            try await Migrator(tenantMigrations, on: MigrationTarget(database: scope.database, schema: scope.schema, label: "tenant \(slug.value)")).apply()
        } catch {
            logger.error("tenant database creation failed; removing it", metadata: ["tenant_id": "\(slug.value)", "error": "\(error)"])
            await removeDatabase(of: slug)
            _ = try? await setStatus(slug.value, .failed)
            throw error
        }
        tenant = try await setStatus(slug.value, .active)
        logger.info("tenant active", metadata: ["tenant_id": "\(slug.value)"])
        return tenant
    }

    /// Changes a tenant's status and returns the tenant as stored.
    @discardableResult
    package func setStatus(_ slug: String, _ status: Tenant.Status) async throws -> Tenant {
        let table = try tenants()
        let updated = try await controlPlane.transaction { database in
            try await database.update(table).set("status", to: status.rawValue).set("updated_at", to: Timestamp.now())
                .where("slug", .equal, slug).run()
            return try await database.select().columns(Self.columns).from(table).where("slug", .equal, slug).first(decoding: Tenant.self)
        }
        cache.withLock { _ = $0.removeValue(forKey: slug) }
        guard let updated else { throw TenantError.notFound(slug) }
        return updated
    }

    /// Removes a tenant's database (schema or file) entirely.
    func removeDatabase(of slug: TenantSlug) async {
        switch layout {
        case .postgres(let database, _):
            do {
                let schema = try SQLIdentifierName.validated(slug.schemaName)
                try await database.transaction { db in try await db.raw("DROP SCHEMA IF EXISTS \(ident: schema) CASCADE").run() }
            } catch {
                logger.error("could not drop tenant schema", metadata: ["tenant_id": "\(slug.value)", "error": "\(error)"])
            }
        case .sqlite(let directory, _):
            if let task = openFiles.withLock({ $0.removeValue(forKey: slug.value) }), let file = try? await task.value {
                await file.shutdown()
            }
            let path = Self.sqlitePath(directory: directory, slug: slug)
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
    }

    // MARK: Migrations

    /// The migration target of a tenant.
    package func migrationTarget(for tenant: Tenant) async throws -> MigrationTarget {
        let scope = try await scope(for: tenant)
        return MigrationTarget(database: scope.database, schema: scope.schema, label: "tenant \(tenant.slug)")
    }

    /// The tenant migrations this build ships.
    package var migrations: MigrationSet { tenantMigrations }

    /// Closes every tenant file this directory opened.
    func shutdown() async {
        let tasks = openFiles.withLock { files in
            defer { files.removeAll() }
            return Array(files.values)
        }
        for task in tasks { await (try? await task.value)?.shutdown() }
    }

    private static let columns = ["id", "slug", "name", "status", "shard", "time_zone", "created_at", "updated_at"]
}

/// Where tenant databases live.
enum StorageLayout: Sendable {
    /// Every tenant a schema in this PostgreSQL database (the primary shard).
    case postgres(any Database, replica: (any Database)?)
    /// Every tenant a file under this data directory.
    case sqlite(dataDirectory: String, readers: Int)
}
