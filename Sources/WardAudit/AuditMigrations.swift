package import WardStorage

/// The audit trail's tenant tables. Rows are append-only: triggers refuse updates and deletes
/// from the application, and the hash chain exposes any change made around them.
package enum AuditMigrations {
    /// The trail's columns after `seq`. Their text is in the checksums of applied migrations:
    /// it must not change.
    static let columns = "id TEXT NOT NULL UNIQUE" + journalColumns.dropFirst("id TEXT NOT NULL".count)
        + ",\nprev_hash TEXT NOT NULL,\nhash TEXT NOT NULL"

    static let indexes = [
        "CREATE INDEX audit_events_patient ON audit_events (patient_id, seq)",
        "CREATE INDEX audit_events_actor ON audit_events (actor_id, seq)",
        "CREATE INDEX audit_events_time ON audit_events (occurred_at)",
    ]

    /// The control plane's table of witnessed trail heads (`AuditWitness`).
    package static let platform: [Migration] = [
        Migration(210, "create_audit_witness", [
            """
            CREATE TABLE audit_witness (
                tenant_id TEXT PRIMARY KEY,
                seq BIGINT NOT NULL,
                hash TEXT NOT NULL,
                recorded_at TEXT NOT NULL
            )
            """,
        ]),
        // The node's journal of audited reads (AuditJournal): an event's fields but its number
        // and hashes, which its trail gives it; numbered in the order they were journaled.
        Migration(
            211, "create_audit_journal",
            sqlite: [
                // No index by tenant: a node's mover reads the journal in order (AuditJournal.pending).
                "CREATE TABLE audit_journal (journal_seq INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id TEXT NOT NULL, \(journalColumns))",
            ],
            postgres: [
                "CREATE TABLE audit_journal (journal_seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id TEXT NOT NULL, \(journalColumns))",
                "CREATE INDEX audit_journal_tenant ON audit_journal (tenant_id, journal_seq)",
            ]
        ),
        // On PostgreSQL the journal takes one row per group commit: its events as one JSON array
        // (the form the trail's inserts take), the tenants they belong to, how many and the
        // oldest time. A row per event cost as much to write, and again to delete, as the
        // event's own row in its trail. `audit_journal` stays for what nodes of the previous
        // release journal during a rolling deploy; the movers still take its rows.
        Migration(
            212, "create_audit_journal_batches",
            sqlite: [],
            postgres: [
                """
                CREATE TABLE audit_journal_batches (
                    journal_seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    tenants TEXT[] NOT NULL,
                    event_count INTEGER NOT NULL,
                    oldest TEXT NOT NULL,
                    events TEXT NOT NULL
                )
                """,
                // lz4 compresses a batch's JSON in half the time pglz took (the insert went from
                // about 230 to 100 µs a batch); a server built without it keeps the default.
                """
                DO $$ BEGIN
                    ALTER TABLE audit_journal_batches ALTER COLUMN events SET COMPRESSION lz4;
                EXCEPTION WHEN feature_not_supported THEN NULL;
                END $$
                """,
            ]
        ),
    ]

    /// An event's fields but its number and hashes: the journal's columns, and most of the trail's.
    static let journalColumns = """
        id TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        actor_type TEXT NOT NULL,
        actor_id TEXT,
        actor_name TEXT,
        actor_roles TEXT NOT NULL,
        action TEXT NOT NULL,
        resource_type TEXT,
        resource_id TEXT,
        patient_id TEXT,
        outcome TEXT NOT NULL,
        reason TEXT,
        client_address TEXT,
        user_agent TEXT,
        request_id TEXT,
        details TEXT NOT NULL
        """

    package static let all: [Migration] = [
        Migration(
            200, "create_audit_events",
            sqlite: ["CREATE TABLE audit_events (seq INTEGER PRIMARY KEY, \(columns))"] + indexes + [
                """
                CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
                BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END
                """,
                """
                CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
                BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END
                """,
            ],
            postgres: ["CREATE TABLE audit_events (seq BIGINT PRIMARY KEY, \(columns))"] + indexes + [
                """
                CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$
                """,
                """
                CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
                FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
                """,
            ],
            serving: [.appendOnly("audit_events")]
        ),
        Migration(201, "create_break_glass_grants", [
            """
            CREATE TABLE break_glass_grants (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL,
                user_name TEXT,
                patient_id TEXT NOT NULL,
                reason TEXT NOT NULL,
                granted_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                reviewed_at TEXT,
                reviewed_by TEXT,
                review_note TEXT
            )
            """,
            "CREATE INDEX break_glass_grants_user_patient ON break_glass_grants (user_id, patient_id, expires_at)",
            "CREATE INDEX break_glass_grants_review ON break_glass_grants (reviewed_at, granted_at)",
        ]),
        // Retention: events up to `through_seq` may be removed, and only those; the anchor
        // keeps the hash of the last removed event so the chain still verifies from there.
        Migration(
            202, "audit_retention",
            sqlite: [
                """
                CREATE TABLE audit_retention (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    through_seq INTEGER NOT NULL,
                    through_hash TEXT NOT NULL,
                    applied_at TEXT NOT NULL
                )
                """,
                "DROP TRIGGER audit_events_no_delete",
                """
                CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
                WHEN OLD.seq > COALESCE((SELECT through_seq FROM audit_retention WHERE id = 1), 0)
                BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END
                """,
            ],
            postgres: [
                """
                CREATE TABLE audit_retention (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    through_seq BIGINT NOT NULL,
                    through_hash TEXT NOT NULL,
                    applied_at TEXT NOT NULL
                )
                """,
                // The trigger runs under whatever search path the deleting statement had, so it
                // names the anchor through the schema of the table it guards.
                """
                CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE kept BIGINT;
                BEGIN
                    IF TG_OP = 'DELETE' THEN
                        EXECUTE format('SELECT COALESCE(MAX(through_seq), 0) FROM %I.audit_retention', TG_TABLE_SCHEMA) INTO kept;
                        IF OLD.seq <= kept THEN RETURN OLD; END IF;
                    END IF;
                    RAISE EXCEPTION 'the audit trail is append-only';
                END $$
                """,
            ],
            serving: [.readOnly("audit_retention")]
        ),
        // The anchor guards the deletes, so it is guarded too: it only moves forward, to an
        // event still present, never the newest, with that event's hash; it is never removed.
        Migration(
            203, "audit_retention_guard",
            sqlite: [
                """
                CREATE TRIGGER audit_retention_insert BEFORE INSERT ON audit_retention
                WHEN NEW.through_seq >= (SELECT MAX(seq) FROM audit_events)
                  OR NEW.through_hash IS NOT (SELECT hash FROM audit_events WHERE seq = NEW.through_seq)
                BEGIN SELECT RAISE(ABORT, 'the retention anchor moves only forward, to a kept event'); END
                """,
                """
                CREATE TRIGGER audit_retention_update BEFORE UPDATE ON audit_retention
                WHEN NEW.id IS NOT OLD.id OR NEW.through_seq <= OLD.through_seq
                  OR NEW.through_seq >= (SELECT MAX(seq) FROM audit_events)
                  OR NEW.through_hash IS NOT (SELECT hash FROM audit_events WHERE seq = NEW.through_seq)
                BEGIN SELECT RAISE(ABORT, 'the retention anchor moves only forward, to a kept event'); END
                """,
                """
                CREATE TRIGGER audit_retention_delete BEFORE DELETE ON audit_retention
                BEGIN SELECT RAISE(ABORT, 'the retention anchor cannot be removed'); END
                """,
            ],
            postgres: [
                """
                CREATE OR REPLACE FUNCTION audit_retention_guard() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE newest BIGINT; kept_hash TEXT;
                BEGIN
                    IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'the retention anchor cannot be removed'; END IF;
                    EXECUTE format('SELECT MAX(seq) FROM %I.audit_events', TG_TABLE_SCHEMA) INTO newest;
                    EXECUTE format('SELECT hash FROM %I.audit_events WHERE seq = $1', TG_TABLE_SCHEMA) INTO kept_hash USING NEW.through_seq;
                    IF (TG_OP = 'UPDATE' AND (NEW.id <> OLD.id OR NEW.through_seq <= OLD.through_seq))
                       OR newest IS NULL OR NEW.through_seq >= newest OR kept_hash IS DISTINCT FROM NEW.through_hash THEN
                        RAISE EXCEPTION 'the retention anchor moves only forward, to a kept event';
                    END IF;
                    RETURN NEW;
                END $$
                """,
                """
                CREATE TRIGGER audit_retention_guard BEFORE INSERT OR UPDATE OR DELETE ON audit_retention
                FOR EACH ROW EXECUTE FUNCTION audit_retention_guard()
                """,
            ]
        ),
        // Which events concern which patient, kept apart from the trail and filled in batches
        // (AuditPatientIndex): an index on the trail itself took a random leaf per event, most of
        // the pages each audited read's commit wrote.
        Migration(
            204, "audit_patient_index",
            sqlite: [
                """
                CREATE TABLE audit_patient_events (
                    bucket INTEGER NOT NULL, patient_id TEXT NOT NULL, seq INTEGER NOT NULL,
                    PRIMARY KEY (bucket, patient_id, seq)
                ) WITHOUT ROWID
                """,
                "CREATE TABLE audit_patient_indexed (id INTEGER PRIMARY KEY CHECK (id = 1), through_seq INTEGER NOT NULL)",
                "INSERT INTO audit_patient_events SELECT seq >> 13, patient_id, seq FROM audit_events WHERE patient_id IS NOT NULL ORDER BY 1, 2, 3",
                "INSERT INTO audit_patient_indexed SELECT 1, COALESCE(MAX(seq), 0) FROM audit_events",
                "DROP INDEX audit_events_patient",
                """
                CREATE TRIGGER audit_patient_events_no_update BEFORE UPDATE ON audit_patient_events
                BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END
                """,
                """
                CREATE TRIGGER audit_patient_events_no_delete BEFORE DELETE ON audit_patient_events
                WHEN OLD.seq > COALESCE((SELECT through_seq FROM audit_retention WHERE id = 1), 0)
                BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END
                """,
                """
                CREATE TRIGGER audit_patient_indexed_update BEFORE UPDATE ON audit_patient_indexed
                WHEN NEW.id IS NOT OLD.id OR NEW.through_seq < OLD.through_seq
                BEGIN SELECT RAISE(ABORT, 'the patient index only moves forward'); END
                """,
                """
                CREATE TRIGGER audit_patient_indexed_delete BEFORE DELETE ON audit_patient_indexed
                BEGIN SELECT RAISE(ABORT, 'the patient index only moves forward'); END
                """,
            ],
            postgres: [
                """
                CREATE TABLE audit_patient_events (
                    bucket BIGINT NOT NULL, patient_id TEXT NOT NULL, seq BIGINT NOT NULL,
                    PRIMARY KEY (bucket, patient_id, seq)
                )
                """,
                "CREATE TABLE audit_patient_indexed (id INTEGER PRIMARY KEY CHECK (id = 1), through_seq BIGINT NOT NULL)",
                "INSERT INTO audit_patient_events SELECT seq >> 13, patient_id, seq FROM audit_events WHERE patient_id IS NOT NULL ORDER BY 1, 2, 3",
                "INSERT INTO audit_patient_indexed SELECT 1, COALESCE(MAX(seq), 0) FROM audit_events",
                "DROP INDEX audit_events_patient",
                // The trail's own guard: no updates, deletes only up to the retention anchor.
                """
                CREATE TRIGGER audit_patient_events_append_only BEFORE UPDATE OR DELETE ON audit_patient_events
                FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
                """,
                """
                CREATE OR REPLACE FUNCTION audit_patient_indexed_guard() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'DELETE' OR NEW.id <> OLD.id OR NEW.through_seq < OLD.through_seq THEN
                        RAISE EXCEPTION 'the patient index only moves forward';
                    END IF;
                    RETURN NEW;
                END $$
                """,
                """
                CREATE TRIGGER audit_patient_indexed_guard BEFORE UPDATE OR DELETE ON audit_patient_indexed
                FOR EACH ROW EXECUTE FUNCTION audit_patient_indexed_guard()
                """,
            ],
            serving: [.appendOnly("audit_patient_events")]
        ),
    ]
}
