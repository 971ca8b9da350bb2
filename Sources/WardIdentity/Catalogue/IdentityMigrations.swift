package import WardStorage

/// The identity module's tables. Seeds are literal SQL: an applied migration must never
/// change, so later permissions arrive in later migrations, and a test checks the seeded roles
/// still match `BuiltInRole`.
package enum IdentityMigrations {
    /// Control-plane administrators, apart from every tenant's users.
    package static let platform: [Migration] = [
        Migration(100, "create_platform_admins", [
            """
            CREATE TABLE platform_admins (
                id TEXT PRIMARY KEY,
                email TEXT NOT NULL,
                email_key TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
                password_hash TEXT NOT NULL,
                failed_attempts INTEGER NOT NULL DEFAULT 0,
                locked_until TEXT,
                last_login_at TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )
            """,
        ]),
        // The console's sessions (the web app's /console): idle and absolute limits and sign-out
        // as for a tenant user's session.
        Migration(101, "create_platform_sessions", [
            """
            CREATE TABLE platform_sessions (
                id TEXT PRIMARY KEY,
                admin_id TEXT NOT NULL REFERENCES platform_admins (id),
                created_at TEXT NOT NULL,
                last_seen_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                revoked_at TEXT,
                client_address TEXT,
                user_agent TEXT
            )
            """,
            "CREATE INDEX platform_sessions_admin ON platform_sessions (admin_id)",
        ]),
    ]

    /// Each tenant's users, roles, permissions and sessions.
    package static let all: [Migration] = [
        Migration(100, "create_identity_tables", [
            """
            CREATE TABLE users (
                id TEXT PRIMARY KEY,
                email TEXT NOT NULL,
                email_key TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
                password_hash TEXT,
                failed_attempts INTEGER NOT NULL DEFAULT 0,
                locked_until TEXT,
                password_changed_at TEXT,
                last_login_at TEXT,
                totp_secret TEXT,
                totp_confirmed INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )
            """,
            "CREATE TABLE permissions (name TEXT PRIMARY KEY, description TEXT NOT NULL)",
            """
            CREATE TABLE roles (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                description TEXT NOT NULL,
                built_in INTEGER NOT NULL DEFAULT 0,
                requires_mfa INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE role_permissions (
                role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
                permission TEXT NOT NULL REFERENCES permissions (name),
                PRIMARY KEY (role_id, permission)
            )
            """,
            """
            CREATE TABLE user_roles (
                user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
                granted_at TEXT NOT NULL,
                PRIMARY KEY (user_id, role_id)
            )
            """,
            "CREATE INDEX user_roles_role ON user_roles (role_id)",
            """
            CREATE TABLE sessions (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                created_at TEXT NOT NULL,
                last_seen_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                revoked_at TEXT,
                revoked_reason TEXT,
                client_address TEXT,
                user_agent TEXT
            )
            """,
            "CREATE INDEX sessions_user ON sessions (user_id)",
            """
            CREATE TABLE refresh_tokens (
                token_hash TEXT PRIMARY KEY,
                session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
                created_at TEXT NOT NULL,
                used_at TEXT
            )
            """,
            "CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id)",
        ]),
        Migration(101, "seed_permissions_and_built_in_roles", [
            """
            INSERT INTO permissions (name, description) VALUES ('patients:read', 'read patient records and search patients'),
                ('patients:write', 'create, update and archive patient records'),
                ('appointments:read', 'read appointments and practitioners'' schedules'),
                ('appointments:write', 'book, move and cancel appointments'),
                ('prescriptions:read', 'read prescriptions'),
                ('prescriptions:write', 'issue and cancel prescriptions'),
                ('billing:read', 'read invoices and payments'),
                ('billing:write', 'issue invoices and record payments'),
                ('parking:read', 'read parking facilities and bookings'),
                ('parking:write', 'manage parking spots, vehicles and bookings'),
                ('reports:read', 'read daily and periodic reports'),
                ('audit:read', 'read the audit trail'),
                ('users:manage', 'create, update and disable users; assign roles'),
                ('roles:manage', 'create and edit custom roles')
            """,
            """
            INSERT INTO roles (id, name, description, built_in, requires_mfa, created_at, updated_at) VALUES ('builtin-tenant-admin', 'tenant_admin', 'runs the clinic''s Ward: every permission', 1, 1, '1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z'),
                ('builtin-doctor', 'doctor', 'clinical care: patients, appointments, prescriptions, reports', 1, 0, '1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z'),
                ('builtin-nurse', 'nurse', 'clinical care without prescribing', 1, 0, '1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z'),
                ('builtin-receptionist', 'receptionist', 'front desk: registration, appointments, invoices seen', 1, 0, '1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z'),
                ('builtin-billing-clerk', 'billing_clerk', 'invoices and payments', 1, 0, '1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z'),
                ('builtin-auditor', 'auditor', 'reviews the audit trail', 1, 0, '1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z'),
                ('builtin-parking-attendant', 'parking_attendant', 'campus parking', 1, 0, '1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z')
            """,
            """
            INSERT INTO role_permissions (role_id, permission) VALUES ('builtin-tenant-admin', 'patients:read'),
                ('builtin-tenant-admin', 'patients:write'),
                ('builtin-tenant-admin', 'appointments:read'),
                ('builtin-tenant-admin', 'appointments:write'),
                ('builtin-tenant-admin', 'prescriptions:read'),
                ('builtin-tenant-admin', 'prescriptions:write'),
                ('builtin-tenant-admin', 'billing:read'),
                ('builtin-tenant-admin', 'billing:write'),
                ('builtin-tenant-admin', 'parking:read'),
                ('builtin-tenant-admin', 'parking:write'),
                ('builtin-tenant-admin', 'reports:read'),
                ('builtin-tenant-admin', 'audit:read'),
                ('builtin-tenant-admin', 'users:manage'),
                ('builtin-tenant-admin', 'roles:manage'),
                ('builtin-doctor', 'patients:read'),
                ('builtin-doctor', 'patients:write'),
                ('builtin-doctor', 'appointments:read'),
                ('builtin-doctor', 'appointments:write'),
                ('builtin-doctor', 'prescriptions:read'),
                ('builtin-doctor', 'prescriptions:write'),
                ('builtin-doctor', 'reports:read'),
                ('builtin-nurse', 'patients:read'),
                ('builtin-nurse', 'patients:write'),
                ('builtin-nurse', 'appointments:read'),
                ('builtin-nurse', 'appointments:write'),
                ('builtin-nurse', 'prescriptions:read'),
                ('builtin-receptionist', 'patients:read'),
                ('builtin-receptionist', 'patients:write'),
                ('builtin-receptionist', 'appointments:read'),
                ('builtin-receptionist', 'appointments:write'),
                ('builtin-receptionist', 'billing:read'),
                ('builtin-billing-clerk', 'patients:read'),
                ('builtin-billing-clerk', 'billing:read'),
                ('builtin-billing-clerk', 'billing:write'),
                ('builtin-billing-clerk', 'reports:read'),
                ('builtin-auditor', 'audit:read'),
                ('builtin-auditor', 'reports:read'),
                ('builtin-parking-attendant', 'parking:read'),
                ('builtin-parking-attendant', 'parking:write')
            """,
        ]),
        Migration(102, "add_second_factor_and_password_reset", [
            "ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0",
            """
            CREATE TABLE recovery_codes (
                user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                code_hash TEXT NOT NULL,
                used_at TEXT,
                PRIMARY KEY (user_id, code_hash)
            )
            """,
            """
            CREATE TABLE password_reset_tokens (
                token_hash TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                used_at TEXT
            )
            """,
            "CREATE INDEX password_reset_tokens_user ON password_reset_tokens (user_id)",
        ]),
        // Break-glass was open to every signed-in user; it is now a permission of its own, held by
        // the clinical roles (and the administrator, who holds every permission).
        Migration(103, "add_break_glass_permission", [
            "INSERT INTO permissions (name, description) VALUES ('patients:break_glass', 'open a patient''s record in an emergency, with a reason (audited, reviewed)')",
            """
            INSERT INTO role_permissions (role_id, permission) VALUES ('builtin-tenant-admin', 'patients:break_glass'),
                ('builtin-doctor', 'patients:break_glass'),
                ('builtin-nurse', 'patients:break_glass')
            """,
        ]),
        // The mail module's permission: the clinic's email wording and its outbox, for administrators.
        Migration(104, "add_mail_permission", [
            "INSERT INTO permissions (name, description) VALUES ('mail:manage', 'word the clinic''s emails and see what was sent')",
            "INSERT INTO role_permissions (role_id, permission) VALUES ('builtin-tenant-admin', 'mail:manage')",
        ]),
        // The documents module's permissions, as `DocumentsModule.roleGrants` grants them.
        Migration(105, "add_document_permissions", [
            "INSERT INTO permissions (name, description) VALUES ('documents:read', 'read patients'' documents')",
            "INSERT INTO permissions (name, description) VALUES ('documents:write', 'file and archive patients'' documents')",
        ] + ["builtin-tenant-admin", "builtin-doctor", "builtin-nurse", "builtin-receptionist"].flatMap { role in
            ["documents:read", "documents:write"].map { "INSERT INTO role_permissions (role_id, permission) VALUES ('\(role)', '\($0)')" }
        }),
        // The billing module's settings (currency, numbering, Stripe keys): for administrators.
        Migration(106, "add_billing_configure_permission", [
            "INSERT INTO permissions (name, description) VALUES ('billing:configure', 'set the clinic''s currency, invoice numbering and Stripe keys')",
            "INSERT INTO role_permissions (role_id, permission) VALUES ('builtin-tenant-admin', 'billing:configure')",
        ]),
        // The parking module's booking permission: the attendant and the desk book for staff and
        // patients; the desk also sees the car parks.
        Migration(107, "add_parking_book_permission", [
            "INSERT INTO permissions (name, description) VALUES ('parking:book', 'register vehicles and book parking for staff and patients')",
            """
            INSERT INTO role_permissions (role_id, permission) VALUES ('builtin-tenant-admin', 'parking:book'),
                ('builtin-parking-attendant', 'parking:book'),
                ('builtin-receptionist', 'parking:book'),
                ('builtin-receptionist', 'parking:read')
            """,
        ]),
        // The clinic's own platform settings (the browser origins allowed to call its API).
        Migration(108, "add_tenant_configure_permission", [
            "INSERT INTO permissions (name, description) VALUES ('tenant:configure', 'set the clinic''s allowed browser origins (CORS)')",
            "INSERT INTO role_permissions (role_id, permission) VALUES ('builtin-tenant-admin', 'tenant:configure')",
        ]),
    ]
}
