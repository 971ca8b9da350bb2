import Foundation
package import Logging
import Synchronization
package import WardCore

/// A node's storage: the control-plane database, the optional read replica and the tenant
/// directory, opened from settings. SQLite keeps `platform.sqlite` and `tenants/*.sqlite`
/// under the data directory; PostgreSQL keeps schema `platform` and one `t_<slug>` schema per
/// tenant.
package final class Storage: Sendable {
    /// The control-plane database.
    package let controlPlane: any Database
    /// The primary's read replicas and the routing of reads to them, when any is configured.
    package let replicas: ReplicaSet?
    /// Each session's last commit position on this node (read-your-writes), when there are
    /// replicas; nil otherwise, and requests then record nothing.
    package let sessionPositions: SessionPositions?
    /// The schema owner's pool (`DATABASE_OWNER_URL`), when another role than the serving one
    /// owns Ward's schemas: migrations, provisioning, purges and restores run on it.
    package let owner: (any Database)?
    /// The tenants and the door to their databases.
    package let tenants: TenantDirectory
    /// The control plane's migration target.
    package let controlPlaneTarget: MigrationTarget
    private let platformMigrations: MigrationSet
    private let tenantMigrationsCheckedAt = Mutex<(ok: Bool, at: ContinuousClock.Instant)?>(nil)
    private let closed = Mutex(false)

    /// The PostgreSQL schema of the control plane.
    package static let platformSchema = "platform"

    /// Opens storage as `settings` say, without migrating anything.
    package init(settings: WardSettings, platformMigrations: [Migration] = [], tenantMigrations: [Migration], logger: Logger) async throws {
        let tenantSet = MigrationSet(plane: "tenant", CoreTenantMigrations.all + tenantMigrations)
        self.platformMigrations = MigrationSet(plane: "platform", PlatformMigrations.core + platformMigrations)
        if let url = settings.databaseURL {
            let limits = PostgresDatabase.Limits(
                maximumConnections: settings.databasePoolSize, connectTimeout: settings.databaseConnectTimeout,
                statementTimeout: settings.databaseStatementTimeout, preparesStatements: settings.databasePreparedStatements
            )
            var primaryLimits = limits
            primaryLimits.recordsCommitPositions = !settings.databaseReadURLs.isEmpty
            let primary = try PostgresDatabase(url: url, limits: primaryLimits, logger: logger)
            let replicaPools = try settings.databaseReadURLs.map { try PostgresDatabase(url: $0, limits: limits, logger: logger) }
            let replicas = replicaPools.isEmpty ? nil : ReplicaSet(
                primary: primary, replicas: replicaPools, maximumLag: settings.databaseReplicaMaxLag, logger: logger
            )
            // Schema changes are rare and serial: a few connections.
            var ownerLimits = limits
            ownerLimits.maximumConnections = min(limits.maximumConnections, 4)
            let owner = try settings.databaseOwnerURL.map { try PostgresDatabase(url: $0, limits: ownerLimits, logger: logger) }
            let schemaOwner = SchemaOwner(database: owner ?? primary, servingRole: owner == nil ? nil : settings.databaseRole)
            self.controlPlane = primary
            self.replicas = replicas
            self.sessionPositions = replicas == nil ? nil : SessionPositions()
            self.owner = owner
            self.controlPlaneTarget = MigrationTarget(
                database: schemaOwner.database, schema: Self.platformSchema, label: "platform", servingRole: schemaOwner.servingRole
            )
            let shards = ShardSet(
                primary: ShardSet.Cluster(name: ShardSet.primaryName, serving: primary, owner: schemaOwner, replicas: replicas),
                controlPlane: primary, controlSchema: Self.platformSchema,
                box: SecretBox(secretKey: settings.secretKey ?? "", previousKeys: settings.auth.previousSecretKeys, purpose: ShardSet.sealingPurpose),
                limits: limits, logger: logger
            )
            self.tenants = TenantDirectory(
                controlPlane: primary, controlSchema: Self.platformSchema, layout: .postgres(shards), tenantMigrations: tenantSet, logger: logger
            )
        } else {
            let path = URL(fileURLWithPath: settings.dataDirectory).appendingPathComponent("platform.sqlite").path
            let database = try await SQLiteDatabase.open(path: path, readerCount: settings.sqliteReaders, logger: logger)
            self.controlPlane = database
            self.replicas = nil
            self.sessionPositions = nil
            self.owner = nil
            self.controlPlaneTarget = MigrationTarget(database: database, schema: nil, label: "platform")
            self.tenants = TenantDirectory(
                controlPlane: database, controlSchema: nil,
                layout: .sqlite(dataDirectory: settings.dataDirectory, readers: settings.sqliteReaders),
                tenantMigrations: tenantSet, logger: logger,
                openFileLimit: settings.sqliteOpenTenants, retireAfter: settings.requestTimeout * 2
            )
        }
    }

    /// The control plane's migrator.
    package var controlPlaneMigrator: Migrator { Migrator(platformMigrations, on: controlPlaneTarget) }

    /// One migrator per tenant, in slug order (deleted tenants have no database left). With
    /// `openOnly`, SQLite tenants whose file is closed are skipped rather than opened.
    /// Calls `body` with each tenant's migrator in turn, until it returns false. One tenant is
    /// opened at a time, and its file held open while `body` uses it: on SQLite, a walk over
    /// more tenants than the open-file limit closes each file after its turn, never during it.
    package func forEachTenantMigrator(openOnly: Bool = false, _ body: (Migrator) async throws -> Bool) async throws {
        for tenant in try await tenants.list() where ![.deleted, .failed, .pending, .provisioning].contains(tenant.status) {
            if openOnly, !tenants.isOpen(tenant.slug) { continue }
            guard try await body(Migrator(tenants.migrations, on: try await tenants.migrationTarget(for: tenant))) else { return }
        }
    }

    /// Brings the control plane and then every tenant up to date; returns what ran, by target.
    @discardableResult
    package func migrateAll() async throws -> [(target: String, applied: [Migration])] {
        var report = [(target: "platform", applied: try await controlPlaneMigrator.apply())]
        try await forEachTenantMigrator { migrator in
            report.append((migrator.target.label, try await migrator.apply()))
            return true
        }
        tenantMigrationsCheckedAt.withLock { $0 = (true, .now) }
        return report
    }

    /// Gives the serving role its access to every schema again, where another role owns them.
    package func grantServingAccess() async throws {
        guard owner != nil else { return }
        try await controlPlaneMigrator.grantServingAccess()
        try await forEachTenantMigrator { migrator in
            try await migrator.grantServingAccess()
            return true
        }
    }

    /// How busy each pool of connections is, by name, for `/metrics`: the control plane's, the
    /// replica's and the schema owner's, and on SQLite the tenant files' together.
    package var poolUsages: [(name: String, usage: PoolUsage)] {
        var list = databases.compactMap { entry in entry.database.usage.map { (entry.name, $0) } }
        // Other shards' pools, once this node has opened them: `shard_<name>`.
        for cluster in tenants.shards?.openClusters ?? [] {
            if let usage = cluster.serving.usage { list.append(("shard_" + cluster.name, usage)) }
        }
        if controlPlane.dialect == .sqlite { list.append(("tenants", tenants.fileUsage)) }
        return list
    }

    /// Each database this node uses with a name, for pool metrics.
    package var databases: [(name: String, database: any Database)] {
        var list: [(String, any Database)] = [("control_plane", controlPlane)]
        list += replicas?.databases ?? []
        if let owner { list.append(("schema_owner", owner)) }
        return list
    }

    /// The databases the node cannot serve without, for readiness: not the replicas, whose
    /// loss only sends reads to the primary.
    package var requiredDatabases: [(name: String, database: any Database)] {
        var list: [(String, any Database)] = [("control_plane", controlPlane)]
        if let owner { list.append(("schema_owner", owner)) }
        return list
    }

    /// Whether the control plane and every tenant have no pending migration. The tenant walk
    /// is remembered for a while: a readiness probe every few seconds must not query every
    /// tenant each time.
    package func migrationsAreCurrent(tenantCheckInterval: Duration = .seconds(30)) async throws -> Bool {
        guard try await controlPlaneMigrator.isCurrent() else { return false }
        if let last = tenantMigrationsCheckedAt.withLock({ $0 }), last.ok, ContinuousClock.now - last.at < tenantCheckInterval {
            return true
        }
        var ok = true
        // Until one walk (or `migrateAll`) has found every tenant current, walk them all; after
        // that, readiness must not open every SQLite tenant file each half minute: a closed file
        // was current when this node last checked it, and only another build could change it.
        let everyTenant = tenantMigrationsCheckedAt.withLock { $0?.ok } != true
        try await forEachTenantMigrator(openOnly: !everyTenant) { migrator in
            ok = try await migrator.isCurrent()
            return ok
        }
        tenantMigrationsCheckedAt.withLock { [ok] in $0 = (ok, .now) }
        return ok
    }

    /// Closes every database, once: later calls return at once.
    package func shutdown() async {
        guard closed.withLock({ closed in defer { closed = true }; return !closed }) else { return }
        await tenants.shutdown()
        await controlPlane.shutdown()
        for (_, replica) in replicas?.databases ?? [] { await replica.shutdown() }
        await owner?.shutdown()
    }
}
