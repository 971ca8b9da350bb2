package import SQLKit
import Synchronization

/// The only way code reaches a tenant's tables. It pairs the tenant with its database handle
/// and, on PostgreSQL, its schema: `table(_:)` names a table inside this tenant only, and
/// transactions run with the tenant's schema as their search path.
package struct TenantScope: Sendable {
    package let tenant: Tenant
    package let database: any Database
    /// The tenant's PostgreSQL schema; nil on SQLite, where the tenant has a file of its own.
    package let schema: String?
    /// The read replicas of the tenant's PostgreSQL primary, which may serve its reads.
    package let replicas: ReplicaSet?
    /// Keeps the tenant's SQLite file open while this scope (or a copy) is alive.
    let hold: FileHold?
    /// Finds the tenant's scope anew once its schema has moved to another shard (`ward tenant
    /// move`): a write held by the move, refused once it switched, runs again there, and every
    /// copy of this scope follows it from then on.
    var relocation: Relocation?

    package init(tenant: Tenant, database: any Database, schema: String?, replicas: ReplicaSet? = nil) {
        self.init(tenant: tenant, database: database, schema: schema, replicas: replicas, hold: nil)
    }

    init(tenant: Tenant, database: any Database, schema: String?, replicas: ReplicaSet? = nil, hold: FileHold?) {
        self.tenant = tenant
        self.database = database
        self.schema = schema
        self.replicas = replicas
        self.hold = hold
    }

    /// The tenant's table `name` (validated), qualified with the tenant's schema on PostgreSQL.
    package func table(_ name: String) throws -> SQLQualifiedTable {
        SQLQualifiedTable(try SQLIdentifierName.validated(name), space: schema)
    }

    /// The tenant's table `name` (validated) as quoted SQL text, schema-qualified on PostgreSQL,
    /// for statements written as text (`SQLText`).
    package func tableName(_ name: String) throws -> String {
        let table = "\"" + (try SQLIdentifierName.validated(name)) + "\""
        guard let schema else { return table }
        return "\"" + schema + "\"." + table
    }

    /// This scope, or the one on the shard its tenant moved to while it was in use.
    package var current: TenantScope {
        relocation?.found ?? self
    }

    /// Runs read-only work against the tenant's database: in a request that changes nothing, on
    /// a read replica that has replayed the session's writes, when there is one.
    /// A read that finds the tenant's schema gone (its move dropped the old copy while this
    /// scope was cached) runs again on the shard the control plane now names.
    package func read<Result: Sendable>(_ work: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        if let moved = relocation?.found { return try await moved.read(work) }
        do {
            guard let replicas else { return try await database.read(work) }
            return try await replicas.database(for: ReadConsistency.current).read(work)
        } catch where TenantMoved.schemaGone(error) {
            guard let moved = try await relocation?.findIfMoved() else { throw error }
            return try await moved.read(work)
        }
    }

    /// Runs read-only work on the tenant's primary even where replicas serve reads: for what
    /// decides access (sessions, roles), which a lagging replica must not extend.
    package func readPrimary<Result: Sendable>(_ work: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        try await current.database.read(work)
    }

    /// Runs work in one transaction of the tenant's database. A transaction the tenant's move
    /// refused (its schema now lives on another shard) runs again on the new one.
    package func transaction<Result: Sendable>(_ work: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        if let moved = relocation?.found { return try await moved.transaction(work) }
        do {
            return try await database.transaction(searchPath: schema, work)
        } catch where TenantMoved.matches(error) {
            guard let relocation else { throw TenantMoved(slug: tenant.slug) }
            return try await relocation.find().transaction(work)
        }
    }

    /// Runs one statement that commits on its own (see `Database.autocommit`), on the tenant's
    /// new shard if it moved meanwhile.
    package func autocommit<Result: Sendable>(_ work: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        if let moved = relocation?.found { return try await moved.autocommit(work) }
        do {
            return try await database.autocommit(work)
        } catch where TenantMoved.matches(error) {
            guard let relocation else { throw TenantMoved(slug: tenant.slug) }
            return try await relocation.find().autocommit(work)
        }
    }
}

/// How a scope finds its tenant on the shard it moved to, and the scope found, shared by every
/// copy of the scope.
final class Relocation: Sendable {
    /// The scope on the shard the control plane names once it names another: waits for it.
    private let lookup: @Sendable () async throws -> TenantScope
    /// The same, asked once: nil while the control plane names the same shard.
    private let check: @Sendable () async throws -> TenantScope?
    private let moved = Mutex<TenantScope?>(nil)

    init(_ lookup: @escaping @Sendable () async throws -> TenantScope, check: @escaping @Sendable () async throws -> TenantScope?) {
        self.lookup = lookup
        self.check = check
    }

    var found: TenantScope? { moved.withLock { $0 } }

    func find() async throws -> TenantScope {
        let scope = try await lookup()
        moved.withLock { $0 = scope }
        return scope
    }

    /// The scope on another shard if the control plane already names one, else nil.
    func findIfMoved() async throws -> TenantScope? {
        guard let scope = try await check() else { return nil }
        moved.withLock { $0 = scope }
        return scope
    }
}
