package import WardStorage

/// The platform module's control-plane tables: the provisioning step log and the email outbox.
/// Versions 400–499 belong to this module.
package enum PlatformModuleMigrations {
    package static let platform: [Migration] = [
        Migration(400, "create_provisioning_steps", [
            """
            CREATE TABLE provisioning_steps (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                job_id TEXT,
                step TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                started_at TEXT NOT NULL,
                finished_at TEXT NOT NULL,
                duration_ms INTEGER NOT NULL,
                outcome TEXT NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'rolled_back', 'skipped')),
                error TEXT
            )
            """,
            "CREATE INDEX provisioning_steps_tenant ON provisioning_steps (tenant_id, id)",
        ]),
        // Emails wait here until the email module sends them; one per tenant and template, so a
        // step run twice queues one email. Bodies are sealed: they carry one-time links.
        Migration(401, "create_email_outbox", [
            """
            CREATE TABLE email_outbox (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                template TEXT NOT NULL,
                recipient TEXT NOT NULL,
                subject TEXT NOT NULL,
                body_sealed TEXT NOT NULL,
                created_at TEXT NOT NULL,
                sent_at TEXT,
                UNIQUE (tenant_id, template)
            )
            """,
        ]),
        // The browser origins each clinic allows to call its API (CORS).
        Migration(402, "create_tenant_cors_origins", [
            """
            CREATE TABLE tenant_cors_origins (
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                origin TEXT NOT NULL,
                created_at TEXT NOT NULL,
                PRIMARY KEY (tenant_id, origin)
            )
            """,
            "CREATE INDEX tenant_cors_origins_origin ON tenant_cors_origins (origin)",
        ]),
        // The rate-limit quotas the nodes of one PostgreSQL share (SQLite has one node).
        Migration(403, "create_rate_limit_quotas", [
            """
            CREATE TABLE rate_limit_quotas (
                policy TEXT NOT NULL,
                key TEXT NOT NULL,
                tat DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (policy, key)
            )
            """,
        ]),
    ]
}
