package import WardStorage

/// The job queue's control-plane tables. Versions 300–399 belong to this module.
package enum JobMigrations {
    package static let platform: [Migration] = [
        Migration(300, "create_jobs", [
            """
            CREATE TABLE jobs (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                payload TEXT NOT NULL,
                tenant TEXT,
                state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'failed', 'succeeded', 'dead', 'cancelled')),
                attempts INTEGER NOT NULL DEFAULT 0,
                max_attempts INTEGER NOT NULL,
                run_at TEXT NOT NULL,
                lease_holder TEXT,
                lease_expires_at TEXT,
                last_error TEXT,
                unique_key TEXT UNIQUE,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                started_at TEXT,
                finished_at TEXT
            )
            """,
            // Claiming looks for the earliest due job among those waiting; the reaper for
            // expired leases among those running.
            "CREATE INDEX jobs_due ON jobs (state, run_at)",
            "CREATE INDEX jobs_lease ON jobs (state, lease_expires_at)",
            "CREATE INDEX jobs_tenant ON jobs (tenant, kind)",
        ]),
    ]
}
