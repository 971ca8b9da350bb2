import WardStorage

/// The billing module's tables, in each tenant's database. Amounts are BIGINT minor units of
/// the invoice's currency. Invoices, credit notes and receipts take their numbers from
/// `billing_counters` inside the transaction that issues them: a rolled-back issue gives its
/// number back, so the sequence has no gaps.
enum BillingMigrations {
    static let tenant: [Migration] = [
        Migration(700, "create_billing", [
            """
            CREATE TABLE billing_settings (
                id INTEGER PRIMARY KEY,
                currency TEXT NOT NULL,
                invoice_prefix TEXT NOT NULL,
                payment_terms_days INTEGER NOT NULL,
                stripe_secret_key TEXT,
                stripe_webhook_secrets TEXT,
                stripe_updated_at TEXT,
                updated_at TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE price_items (
                id TEXT PRIMARY KEY,
                code TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                kind TEXT NOT NULL,
                unit_amount BIGINT NOT NULL,
                tax_rate_bp INTEGER NOT NULL,
                active INTEGER NOT NULL,
                created_at TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE invoices (
                id TEXT PRIMARY KEY,
                number TEXT UNIQUE,
                patient_id TEXT NOT NULL REFERENCES patients (id),
                status TEXT NOT NULL,
                currency TEXT NOT NULL,
                subtotal BIGINT NOT NULL,
                discount_total BIGINT NOT NULL,
                tax_total BIGINT NOT NULL,
                total BIGINT NOT NULL,
                paid BIGINT NOT NULL,
                credited BIGINT NOT NULL,
                note TEXT,
                due_date TEXT,
                issued_at TEXT,
                voided_at TEXT,
                void_reason TEXT,
                disputed INTEGER NOT NULL,
                created_by TEXT,
                created_at TEXT NOT NULL,
                version INTEGER NOT NULL
            )
            """,
            "CREATE INDEX invoices_patient ON invoices (patient_id, created_at)",
            "CREATE INDEX invoices_open ON invoices (status, due_date)",
            """
            CREATE TABLE invoice_lines (
                invoice_id TEXT NOT NULL REFERENCES invoices (id),
                position INTEGER NOT NULL,
                description TEXT NOT NULL,
                source_type TEXT,
                source_id TEXT,
                price_item_id TEXT,
                quantity INTEGER NOT NULL,
                unit_amount BIGINT NOT NULL,
                discount_bp INTEGER NOT NULL,
                tax_rate_bp INTEGER NOT NULL,
                discount BIGINT NOT NULL,
                net BIGINT NOT NULL,
                tax BIGINT NOT NULL,
                PRIMARY KEY (invoice_id, position)
            )
            """,
            """
            CREATE TABLE billing_counters (
                name TEXT PRIMARY KEY,
                next_value BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE credit_notes (
                id TEXT PRIMARY KEY,
                number TEXT NOT NULL UNIQUE,
                invoice_id TEXT NOT NULL REFERENCES invoices (id),
                amount BIGINT NOT NULL,
                reason TEXT NOT NULL,
                refund_amount BIGINT NOT NULL,
                refund_method TEXT,
                created_by TEXT,
                created_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX credit_notes_invoice ON credit_notes (invoice_id)",
            """
            CREATE TABLE payments (
                id TEXT PRIMARY KEY,
                invoice_id TEXT NOT NULL REFERENCES invoices (id),
                kind TEXT NOT NULL,
                method TEXT NOT NULL,
                amount BIGINT NOT NULL,
                currency TEXT NOT NULL,
                reference TEXT,
                receipt_number TEXT UNIQUE,
                stripe_id TEXT UNIQUE,
                credit_note_id TEXT,
                received_at TEXT NOT NULL,
                recorded_by TEXT,
                created_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX payments_invoice ON payments (invoice_id)",
            "CREATE INDEX payments_received ON payments (received_at)",
            """
            CREATE TABLE stripe_payment_intents (
                id TEXT PRIMARY KEY,
                invoice_id TEXT NOT NULL REFERENCES invoices (id),
                amount BIGINT NOT NULL,
                currency TEXT NOT NULL,
                status TEXT NOT NULL,
                status_at BIGINT NOT NULL,
                created_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX stripe_payment_intents_invoice ON stripe_payment_intents (invoice_id)",
            """
            CREATE TABLE stripe_events (
                id TEXT PRIMARY KEY,
                type TEXT NOT NULL,
                object_id TEXT,
                outcome TEXT NOT NULL,
                received_at TEXT NOT NULL
            )
            """,
        ]),
    ]
}
