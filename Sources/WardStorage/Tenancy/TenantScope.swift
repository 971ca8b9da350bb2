package import SQLKit

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

    /// Runs read-only work against the tenant's database: in a request that changes nothing, on
    /// a read replica that has replayed the session's writes, when there is one.
    package func read<Result: Sendable>(_ work: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        guard let replicas else { return try await database.read(work) }
        return try await replicas.database(for: ReadConsistency.current).read(work)
    }

    /// Runs read-only work on the tenant's primary even where replicas serve reads: for what
    /// decides access (sessions, roles), which a lagging replica must not extend.
    package func readPrimary<Result: Sendable>(_ work: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        try await database.read(work)
    }

    /// Runs work in one transaction of the tenant's database.
    package func transaction<Result: Sendable>(_ work: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        try await database.transaction(searchPath: schema, work)
    }
}
