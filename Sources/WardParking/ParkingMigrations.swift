import WardStorage

/// The parking module's tables, in each tenant's database. Times are kept as RFC 3339 text (as
/// everywhere in Ward) and as Unix seconds for the overlap arithmetic. On PostgreSQL an
/// exclusion constraint makes double booking impossible whatever the code does: a booking is
/// the box (spot key, start … end − 1 s), and no two live bookings' boxes may overlap (built-in
/// GiST box operators, no extension needed); on SQLite the one writer serialises bookings and
/// each checks before it inserts.
enum ParkingMigrations {
    static let tables = [
        """
        CREATE TABLE parking_facilities (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            address TEXT,
            time_zone TEXT NOT NULL,
            opening_hours TEXT,
            created_at TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE parking_zones (
            id TEXT PRIMARY KEY,
            facility_id TEXT NOT NULL REFERENCES parking_facilities (id),
            name TEXT NOT NULL,
            level TEXT,
            kind TEXT NOT NULL,
            hourly_rate BIGINT NOT NULL,
            daily_cap BIGINT NOT NULL,
            free_minutes INTEGER NOT NULL,
            created_at TEXT NOT NULL
        )
        """,
        "CREATE INDEX parking_zones_facility ON parking_zones (facility_id)",
        """
        CREATE TABLE parking_spots (
            id TEXT PRIMARY KEY,
            spot_key INTEGER NOT NULL UNIQUE,
            facility_id TEXT NOT NULL REFERENCES parking_facilities (id),
            zone_id TEXT NOT NULL REFERENCES parking_zones (id),
            code TEXT NOT NULL,
            kind TEXT NOT NULL,
            charger_kw INTEGER,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (facility_id, code)
        )
        """,
        "CREATE INDEX parking_spots_available ON parking_spots (facility_id, zone_id, kind, status)",
        """
        CREATE TABLE parking_vehicles (
            id TEXT PRIMARY KEY,
            plate TEXT NOT NULL UNIQUE,
            country TEXT NOT NULL,
            owner_type TEXT NOT NULL,
            owner_id TEXT NOT NULL,
            make TEXT,
            colour TEXT,
            created_at TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE parking_bookings (
            id TEXT PRIMARY KEY,
            spot_id TEXT NOT NULL REFERENCES parking_spots (id),
            spot_key INTEGER NOT NULL,
            zone_id TEXT NOT NULL,
            facility_id TEXT NOT NULL,
            vehicle_id TEXT NOT NULL REFERENCES parking_vehicles (id),
            plate TEXT NOT NULL,
            patient_id TEXT,
            starts_at TEXT NOT NULL,
            ends_at TEXT NOT NULL,
            starts_epoch BIGINT NOT NULL,
            ends_epoch BIGINT NOT NULL,
            status TEXT NOT NULL,
            checked_in_at TEXT,
            checked_out_at TEXT,
            amount BIGINT,
            invoice_id TEXT,
            created_by TEXT,
            created_at TEXT NOT NULL,
            CHECK (ends_epoch > starts_epoch)
        )
        """,
        "CREATE INDEX parking_bookings_spot ON parking_bookings (spot_id, starts_epoch)",
        "CREATE INDEX parking_bookings_facility ON parking_bookings (facility_id, status, starts_epoch)",
        "CREATE INDEX parking_bookings_plate ON parking_bookings (plate, status)",
    ]

    /// Staff permits: a vehicle may enter without a reservation on the permit's days and hours
    /// (local to the car park; an end at or before the start runs past midnight), within its
    /// validity, in its zone or any staff zone of the car park. A stay entered on a permit
    /// names it.
    static let permits = [
        """
        CREATE TABLE parking_permits (
            id TEXT PRIMARY KEY,
            vehicle_id TEXT NOT NULL REFERENCES parking_vehicles (id),
            facility_id TEXT NOT NULL REFERENCES parking_facilities (id),
            zone_id TEXT REFERENCES parking_zones (id),
            days TEXT NOT NULL,
            from_time TEXT NOT NULL,
            until_time TEXT NOT NULL,
            valid_from TEXT NOT NULL,
            valid_until TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL
        )
        """,
        "CREATE INDEX parking_permits_vehicle ON parking_permits (vehicle_id, status)",
        "ALTER TABLE parking_bookings ADD COLUMN permit_id TEXT",
        // A zone's spots in code order: availability stops after the first page of free ones
        // instead of walking the whole car park's spots.
        "CREATE INDEX parking_spots_zone ON parking_spots (zone_id, status, code)",
        // Overlap probes read only live bookings ending after the window starts: past stays,
        // however many, are not in these indexes, and no row is read beyond them.
        """
        CREATE INDEX parking_bookings_live_spot ON parking_bookings (spot_id, ends_epoch, starts_epoch)
        WHERE status IN ('reserved', 'checked_in')
        """,
        """
        CREATE INDEX parking_bookings_live_vehicle ON parking_bookings (vehicle_id, ends_epoch, starts_epoch)
        WHERE status IN ('reserved', 'checked_in')
        """,
    ]

    /// The control plane's record of the clinics that run a car park (`ParkingTenants`).
    static let platform: [Migration] = [
        Migration(800, "create_parking_tenants", [
            "CREATE TABLE parking_tenants (tenant_id TEXT PRIMARY KEY, recorded_at TEXT NOT NULL)",
        ]),
    ]

    static let tenant: [Migration] = [
        Migration(800, "create_parking", sqlite: tables, postgres: tables + [
            """
            ALTER TABLE parking_bookings ADD CONSTRAINT parking_bookings_no_overlap EXCLUDE USING gist (
                box(point(spot_key, starts_epoch), point(spot_key, ends_epoch - 1)) WITH &&
            ) WHERE (status IN ('reserved', 'checked_in'))
            """,
        ]),
        Migration(801, "create_parking_permits", sqlite: permits, postgres: permits),
        // A patient's plate sealed beside the blind index the `plate` column then holds
        // (PlateProtection); rows of earlier builds are sealed at the next start.
        Migration(802, "seal_patient_plates", [
            "ALTER TABLE parking_vehicles ADD COLUMN plate_sealed TEXT",
            "ALTER TABLE parking_bookings ADD COLUMN plate_sealed TEXT",
        ]),
    ]
}
