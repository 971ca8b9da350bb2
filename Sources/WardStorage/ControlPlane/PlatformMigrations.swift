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
    ]
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
