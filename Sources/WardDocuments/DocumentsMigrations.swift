import WardStorage

/// The documents module's tables: each tenant's documents in its own database; the tenants'
/// wrapped data keys in the control plane.
enum DocumentsMigrations {
    static let platform: [Migration] = [
        Migration(600, "create_document_keys", [
            """
            CREATE TABLE document_keys (
                tenant_id TEXT PRIMARY KEY,
                generation INTEGER NOT NULL,
                wrapped TEXT NOT NULL,
                created_at TEXT NOT NULL,
                rewrapped_at TEXT
            )
            """,
        ]),
    ]

    static let tenant: [Migration] = [
        Migration(600, "create_documents", [
            """
            CREATE TABLE documents (
                id TEXT PRIMARY KEY,
                patient_id TEXT NOT NULL REFERENCES patients (id),
                title TEXT NOT NULL,
                category TEXT NOT NULL,
                media_type TEXT NOT NULL,
                size BIGINT NOT NULL,
                sha256 TEXT NOT NULL,
                author_id TEXT,
                author_name TEXT,
                document_date TEXT NOT NULL,
                status TEXT NOT NULL,
                source TEXT,
                object_key TEXT NOT NULL,
                nonce TEXT NOT NULL,
                key_generation INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                archived_at TEXT,
                archived_reason TEXT,
                archived_by TEXT
            )
            """,
            "CREATE INDEX documents_patient ON documents (patient_id, document_date)",
        ]),
    ]
}
