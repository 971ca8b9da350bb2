import WardStorage

/// The mail module's tables: the outbox and the suppressed addresses in the control plane,
/// each tenant's own wording of its emails in the tenant's database.
enum MailMigrations {
    static let platform: [Migration] = [
        Migration(500, "create_mail_messages", [
            """
            CREATE TABLE mail_messages (
                id TEXT PRIMARY KEY,
                tenant TEXT,
                template TEXT NOT NULL,
                recipient_hash TEXT NOT NULL,
                dedupe_key TEXT UNIQUE,
                message_id TEXT NOT NULL,
                sealed TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                last_reply TEXT,
                created_at TEXT NOT NULL,
                sent_at TEXT
            )
            """,
            "CREATE INDEX mail_messages_tenant ON mail_messages (tenant, created_at)",
            "CREATE INDEX mail_messages_status ON mail_messages (status)",
            """
            CREATE TABLE mail_suppressions (
                address_hash TEXT PRIMARY KEY,
                reason TEXT NOT NULL,
                created_at TEXT NOT NULL
            )
            """,
        ]),
    ]

    static let tenant: [Migration] = [
        Migration(500, "create_mail_templates", [
            """
            CREATE TABLE mail_templates (
                name TEXT PRIMARY KEY,
                subject TEXT NOT NULL,
                text TEXT NOT NULL,
                html TEXT NOT NULL,
                updated_by TEXT,
                updated_at TEXT NOT NULL
            )
            """,
        ]),
    ]
}
