/// The control plane's schema: the tenants and the shards they live on. Later modules (jobs,
/// platform administrators) append their migrations here.
package enum PlatformMigrations {
    package static let core: [Migration] = [
        Migration(1, "create_shards", [
            """
            CREATE TABLE shards (
                name TEXT PRIMARY KEY,
                description TEXT NOT NULL,
                created_at TEXT NOT NULL
            )
            """,
            "INSERT INTO shards (name, description, created_at) VALUES ('primary', 'the node''s own database', '1970-01-01T00:00:00.000Z')",
        ]),
        Migration(2, "create_tenants", [
            """
            CREATE TABLE tenants (
                id TEXT PRIMARY KEY,
                slug TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'provisioning', 'active', 'failed', 'suspended', 'deleting', 'deleted')),
                shard TEXT NOT NULL REFERENCES shards (name),
                time_zone TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX tenants_status ON tenants (status)",
        ]),
        // Provisioning and deletion need to say why a tenant failed and when its data goes.
        Migration(3, "tenant_lifecycle", [
            "ALTER TABLE tenants ADD COLUMN last_error TEXT",
            "ALTER TABLE tenants ADD COLUMN deleted_at TEXT",
            "ALTER TABLE tenants ADD COLUMN purge_after TEXT",
        ]),
        // Shards beyond the node's own database: another PostgreSQL cluster each, reached by
        // URLs sealed under the secret key (they carry passwords), with a pool size of its own.
        Migration(4, "shard_clusters", [
            "ALTER TABLE shards ADD COLUMN url_sealed TEXT",
            "ALTER TABLE shards ADD COLUMN owner_url_sealed TEXT",
            "ALTER TABLE shards ADD COLUMN pool_size INTEGER",
            "ALTER TABLE shards ADD COLUMN accepts_tenants INTEGER NOT NULL DEFAULT 1",
        ]),
        // Moves of a tenant between shards: one at a time (the partial unique index), each
        // recorded with how long writes were held.
        Migration(5, "create_tenant_moves", [
            """
            CREATE TABLE tenant_moves (
                id TEXT PRIMARY KEY,
                slug TEXT NOT NULL,
                from_shard TEXT NOT NULL,
                to_shard TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('copying', 'switching', 'done', 'failed')),
                started_at TEXT NOT NULL,
                finished_at TEXT,
                rows_copied INTEGER,
                pause_ms INTEGER,
                error TEXT
            )
            """,
            "CREATE UNIQUE INDEX tenant_moves_one_running ON tenant_moves ((1)) WHERE finished_at IS NULL",
        ]),
        // A read of one row by its key takes the key's index: see `plannerCosts`.
        Migration(6, "plan_point_reads_by_index", sqlite: [], postgres: [plannerCosts]),
    ]

    /// A read of one row by its key takes the key's index on PostgreSQL. At the default
    /// random_page_cost (4, priced for spinning disks) the planner scans a small tenant's whole
    /// table instead (a clinic's hundred patients are a few pages): cheap alone, but the scans
    /// of a hundred tenants evict each other from the CPU's caches, and a point read's time in
    /// PostgreSQL doubled. 1.1 is the usual value for SSDs and for data held in memory. Set for
    /// the database, so new sessions of every role (PgBouncer's too) take it, and only where
    /// nobody chose a value (postgresql.conf, ALTER SYSTEM, a role or the database; the catalog
    /// is read too, since a session through PgBouncer may predate a value set since) and the
    /// role running it may (it owns the database): otherwise it warns and changes nothing. Run
    /// by migration 6 on the control plane's database and by `ShardSet.add` on a shard's.
    package static let plannerCosts = """
        DO $$ BEGIN
            IF (SELECT source FROM pg_settings WHERE name = 'random_page_cost') = 'default'
                AND NOT EXISTS (
                    SELECT 1 FROM pg_db_role_setting s, unnest(s.setconfig) AS c
                    WHERE s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
                    AND c LIKE 'random_page_cost=%'
                ) THEN
                EXECUTE format('ALTER DATABASE %I SET random_page_cost = 1.1', current_database());
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'random_page_cost left as it is (%): point reads of small tables may scan them', SQLERRM;
        END $$
        """
}

/// The schema every tenant's database starts with. Each module appends its tables here.
package enum CoreTenantMigrations {
    package static let all: [Migration] = [
        Migration(1, "create_tenant_settings", [
            """
            CREATE TABLE tenant_settings (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )
            """,
        ]),
    ]
}
