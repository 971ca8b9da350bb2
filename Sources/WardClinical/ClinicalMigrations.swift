package import WardStorage

/// The clinical module's tenant tables: patients (with their search terms), practitioners and
/// appointments. Times are RFC 3339 UTC text, dates `YYYY-MM-DD`.
package enum ClinicalMigrations {
    package static let all: [Migration] = [
        Migration(300, "create_patients", [
            """
            CREATE TABLE patients (
                id TEXT PRIMARY KEY,
                mrn TEXT NOT NULL UNIQUE,
                given_name TEXT NOT NULL,
                family_name TEXT NOT NULL,
                birth_date TEXT,
                sex TEXT CHECK (sex IN ('female', 'male', 'other', 'unknown')),
                phone TEXT,
                email TEXT,
                address TEXT,
                national_id TEXT,
                emergency_contact TEXT,
                metadata TEXT NOT NULL DEFAULT '{}',
                status TEXT NOT NULL CHECK (status IN ('active', 'archived')),
                version INTEGER NOT NULL,
                created_by TEXT,
                created_at TEXT NOT NULL,
                updated_by TEXT,
                updated_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX patients_phone ON patients (phone)",
            "CREATE INDEX patients_email ON patients (email)",
            "CREATE INDEX patients_birth_date ON patients (birth_date)",
            // Each name token and every string one deletion away from it: a query token and
            // its own deletions meet here whenever the two are one edit apart. The names ride
            // along in the key so a page comes straight off the index in name order, without
            // touching the patients table or sorting. Archived patients have no terms.
            """
            CREATE TABLE patient_search_terms (
                term TEXT NOT NULL,
                family_name TEXT NOT NULL,
                given_name TEXT NOT NULL,
                patient_id TEXT NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
                PRIMARY KEY (term, family_name, given_name, patient_id)
            )
            """,
            "CREATE INDEX patient_search_terms_patient ON patient_search_terms (patient_id)",
        ]),
        Migration(301, "create_practitioners_and_appointments", [
            """
            CREATE TABLE practitioners (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                specialty TEXT,
                licence_number TEXT,
                phone TEXT,
                email TEXT,
                user_id TEXT,
                active INTEGER NOT NULL DEFAULT 1,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE appointments (
                id TEXT PRIMARY KEY,
                patient_id TEXT NOT NULL REFERENCES patients (id),
                practitioner_id TEXT NOT NULL REFERENCES practitioners (id),
                start_at TEXT NOT NULL,
                end_at TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('proposed', 'booked', 'arrived', 'fulfilled', 'cancelled', 'noshow')),
                reason TEXT,
                version INTEGER NOT NULL,
                created_by TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CHECK (end_at > start_at)
            )
            """,
            "CREATE INDEX appointments_practitioner_start ON appointments (practitioner_id, start_at)",
            "CREATE INDEX appointments_patient ON appointments (patient_id, start_at)",
        ]),
        Migration(303, "create_medications_and_prescriptions", [
            """
            CREATE TABLE medications (
                id TEXT PRIMARY KEY,
                code TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                form TEXT NOT NULL,
                strength TEXT NOT NULL,
                active INTEGER NOT NULL DEFAULT 1,
                created_at TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE prescriptions (
                id TEXT PRIMARY KEY,
                patient_id TEXT NOT NULL REFERENCES patients (id),
                prescriber_id TEXT NOT NULL,
                prescriber_name TEXT,
                status TEXT NOT NULL CHECK (status IN ('active', 'completed', 'cancelled')),
                issued_at TEXT NOT NULL,
                items TEXT NOT NULL,
                version INTEGER NOT NULL
            )
            """,
            "CREATE INDEX prescriptions_patient ON prescriptions (patient_id, issued_at)",
        ]),
        Migration(302, "create_counters", [
            "CREATE TABLE clinical_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
            "INSERT INTO clinical_counters (name, value) VALUES ('mrn', 0)",
        ]),
        // One row per closed local day: what the daily report job counted.
        Migration(304, "create_daily_reports", [
            """
            CREATE TABLE daily_reports (
                day TEXT PRIMARY KEY,
                time_zone TEXT NOT NULL,
                appointments_total INTEGER NOT NULL,
                appointments_fulfilled INTEGER NOT NULL,
                appointments_cancelled INTEGER NOT NULL,
                appointments_noshow INTEGER NOT NULL,
                patients_registered INTEGER NOT NULL,
                prescriptions_issued INTEGER NOT NULL,
                generated_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX patients_created ON patients (created_at)",
            "CREATE INDEX prescriptions_issued ON prescriptions (issued_at)",
            "CREATE INDEX appointments_start ON appointments (start_at)",
        ]),
        // Whether the patient gets appointment reminders by email (they may decline them).
        Migration(305, "add_patient_email_reminders", [
            "ALTER TABLE patients ADD COLUMN email_reminders BOOLEAN NOT NULL DEFAULT TRUE",
        ]),
        // Identifying fields are sealed (`PatientProtection`): exact search goes through keyed
        // blind indexes; the indexes of the clear columns would only index ciphertext. Rows
        // written before are sealed by the clinical module's service at start.
        Migration(306, "add_patient_blind_indexes", [
            "ALTER TABLE patients ADD COLUMN birth_date_index TEXT",
            "ALTER TABLE patients ADD COLUMN phone_index TEXT",
            "ALTER TABLE patients ADD COLUMN email_index TEXT",
            "ALTER TABLE patients ADD COLUMN national_id_index TEXT",
            // Partial: a clinic that never records national ids has the column all NULL, and a
            // full index's statistics then tell SQLite's planner that a lookup matches every row
            // (it scanned the table for each search). `x = ?` implies `x IS NOT NULL` in both.
            "CREATE INDEX patients_birth_date_index ON patients (birth_date_index) WHERE birth_date_index IS NOT NULL",
            "CREATE INDEX patients_phone_index ON patients (phone_index) WHERE phone_index IS NOT NULL",
            "CREATE INDEX patients_email_index ON patients (email_index) WHERE email_index IS NOT NULL",
            "CREATE INDEX patients_national_id_index ON patients (national_id_index) WHERE national_id_index IS NOT NULL",
            "DROP INDEX patients_phone",
            "DROP INDEX patients_email",
            "DROP INDEX patients_birth_date",
            // 0 until the rows written before this migration are sealed (`sealLegacy`).
            "INSERT INTO clinical_counters (name, value) VALUES ('patient_fields_sealed', 0)",
        ]),
    ]
}
