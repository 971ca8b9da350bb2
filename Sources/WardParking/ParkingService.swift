package import Foundation
import SQLKit
package import WardAudit
package import WardBilling
package import WardCore
package import WardHTTP
package import WardStorage

/// The campus's parking: facilities, zones, spots and vehicles, and the bookings that hold a
/// spot for a time window. Every booking, check-in and check-out is audited (a plate tied to a
/// patient is patient data).
package struct ParkingService: Sendable {
    let audit: AuditTrail
    /// Charges a patient's parking to an invoice; nil where billing is not built.
    let billing: BillingService?
    /// The module's counters.
    let metrics: ParkingMetrics
    /// Seals patients' plates and finds them by blind index.
    let plates: PlateProtection
    /// Where a clinic is recorded as running a car park.
    let tenants: ParkingTenants
    /// Minutes after its start that a reservation waits for its vehicle before it is a no-show.
    package static let gracePeriod: TimeInterval = 15 * 60
    /// The longest booking, and how far ahead one may be made.
    static let longest: TimeInterval = 31 * 86_400
    static let horizon: TimeInterval = 366 * 86_400
    static let name = TextField.singleLine(max: 120)
    static let text = TextField.singleLine(max: 200)
    static let codePattern = #"^[A-Za-z0-9-]{1,16}$"#

    package init(audit: AuditTrail, billing: BillingService?, plates: PlateProtection, metrics: ParkingMetrics, tenants: ParkingTenants) {
        self.audit = audit
        self.tenants = tenants
        self.plates = plates
        self.billing = billing
        self.metrics = metrics
    }

    // MARK: The estate

    package func addFacility(name: String, address: String?, timeZone: String, openingHours: String?, in scope: TenantScope, by actor: AuditActor) async throws -> Facility {
        var errors: [Problem.FieldError] = []
        Self.name.check(name, "name", into: &errors)
        Self.text.check(address, "address", into: &errors)
        Self.text.check(openingHours, "opening_hours", into: &errors)
        if TimeZone(identifier: timeZone) == nil { errors.append(.init(field: "time_zone", message: "must be an IANA time zone such as Europe/Oslo")) }
        guard errors.isEmpty else { throw ParkingError.invalid(errors) }
        let facility = Facility(id: UUIDv7.id(), name: name, address: address, timeZone: timeZone, openingHours: openingHours, createdAt: Timestamp.now())
        // Recorded first: a reservation never exists where the no-show job does not look.
        try await tenants.record(scope.tenant.id)
        try await insert(facility, into: "parking_facilities", resource: "parking_facility", id: facility.id, in: scope, by: actor)
        return facility
    }

    /// Records the clinic of `scope` as running a car park if it has a facility and the
    /// control plane does not know (`recorded`: the ids it knows); returns whether it did.
    @discardableResult
    package func recordCarPark(in scope: TenantScope, recorded: Set<String>) async throws -> Bool {
        guard !recorded.contains(scope.tenant.id) else { return false }
        let table = try scope.table("parking_facilities")
        let hasFacility = try await scope.read { try await $0.select().column("id").from(table).limit(1).first() } != nil
        if hasFacility { try await tenants.record(scope.tenant.id) }
        return hasFacility
    }

    package func facilities(in scope: TenantScope) async throws -> [Facility] {
        let table = try scope.table("parking_facilities")
        return try await scope.read { try await $0.select().columns(Facility.columns).from(table).orderBy("name").limit(500).all(decoding: Facility.self) }
    }

    package func addZone(facilityID: String, name: String, level: String?, kind: String, hourlyRate: Int64, dailyCap: Int64, freeMinutes: Int,
                         in scope: TenantScope, by actor: AuditActor) async throws -> Zone {
        var errors: [Problem.FieldError] = []
        Self.name.check(name, "name", into: &errors)
        Self.name.check(level, "level", into: &errors)
        if !Zone.kinds.contains(kind) { errors.append(.init(field: "kind", message: "must be staff, patient, visitor or emergency")) }
        if !(0...100_000_000).contains(hourlyRate) { errors.append(.init(field: "hourly_rate", message: "must be 0 to 100000000 minor units")) }
        if !(0...1_000_000_000).contains(dailyCap) { errors.append(.init(field: "daily_cap", message: "must be 0 to 1000000000 minor units")) }
        if !(0...1_440).contains(freeMinutes) { errors.append(.init(field: "free_minutes", message: "must be 0 to 1440")) }
        guard errors.isEmpty else { throw ParkingError.invalid(errors) }
        try await requireRow("parking_facilities", facilityID, "facility", in: scope)
        let zone = Zone(id: UUIDv7.id(), facilityID: facilityID, name: name, level: level, kind: kind, hourlyRate: hourlyRate, dailyCap: dailyCap,
                        freeMinutes: freeMinutes, createdAt: Timestamp.now())
        try await insert(zone, into: "parking_zones", resource: "parking_zone", id: zone.id, in: scope, by: actor)
        return zone
    }

    package func zones(of facilityID: String, in scope: TenantScope) async throws -> [Zone] {
        let table = try scope.table("parking_zones")
        return try await scope.read {
            try await $0.select().columns(Zone.columns).from(table).where("facility_id", .equal, facilityID).orderBy("name").limit(500).all(decoding: Zone.self)
        }
    }

    /// Adds spots `code`… to a zone; each gets the next spot key (the exclusion constraint's
    /// number for it).
    package func addSpots(zoneID: String, codes: [String], kind: String, chargerKW: Int?, in scope: TenantScope, by actor: AuditActor) async throws -> [Spot] {
        var errors: [Problem.FieldError] = []
        if codes.isEmpty || codes.count > 500 { errors.append(.init(field: "codes", message: "must name 1 to 500 spots")) }
        for (index, code) in codes.enumerated() where !TextRules.matches(code, Self.codePattern) {
            errors.append(.init(field: "codes[\(index)]", message: "must be 1 to 16 letters, digits or hyphens"))
        }
        if Set(codes.map { $0.uppercased() }).count != codes.count { errors.append(.init(field: "codes", message: "must not repeat a code")) }
        if !Spot.kinds.contains(kind) { errors.append(.init(field: "kind", message: "must be standard, accessible, ev or motorcycle")) }
        if let chargerKW, !(1...1_000).contains(chargerKW) { errors.append(.init(field: "charger_kw", message: "must be 1 to 1000")) }
        if (kind == "ev") != (chargerKW != nil) { errors.append(.init(field: "charger_kw", message: "is given for EV spots, and only for them")) }
        guard errors.isEmpty else { throw ParkingError.invalid(errors) }
        let zones = try scope.table("parking_zones"), spots = try scope.table("parking_spots")
        let audit = self.audit
        do {
            return try await insertSpots(zoneID: zoneID, codes: codes, kind: kind, chargerKW: chargerKW, zones: zones, spots: spots, audit: audit,
                                         in: scope, by: actor)
        } catch let error where isConstraintConflict(error) {
            // Two additions at once took the same spot key or code: the second is told to retry.
            throw ParkingError.conflict("Spots were added to the car park at the same moment; try again.")
        }
    }

    private func insertSpots(zoneID: String, codes: [String], kind: String, chargerKW: Int?, zones: SQLQualifiedTable, spots: SQLQualifiedTable,
                             audit: AuditTrail, in scope: TenantScope, by actor: AuditActor) async throws -> [Spot] {
        try await scope.transaction { database in
            guard let zone = try await database.select().columns(Zone.columns).from(zones).where("id", .equal, zoneID).first(decoding: Zone.self) else {
                throw ParkingError.notFound("zone")
            }
            let taken = try await database.select().column("code").from(spots).where("facility_id", .equal, zone.facilityID)
                .where("code", .in, SQLBind.group(codes.map { $0.uppercased() })).first()
            if let taken { throw ParkingError.conflict("The facility has a spot \(try taken.decode(column: "code", as: String.self)) already.") }
            var key = try await database.select().column(SQLFunction("MAX", args: SQLColumn("spot_key")), as: "top").from(spots).first()?
                .decode(column: "top", as: Int?.self) ?? 0
            let now = Timestamp.now()
            var made: [Spot] = []
            for code in codes {
                key += 1
                let spot = Spot(id: UUIDv7.id(), facilityID: zone.facilityID, zoneID: zone.id, code: code.uppercased(), kind: kind, chargerKW: chargerKW,
                                status: "active", createdAt: now)
                try await database.insert(into: spots).columns(Spot.columns + ["spot_key"])
                    .values(SQLBind(spot.id), SQLBind(spot.facilityID), SQLBind(spot.zoneID), SQLBind(spot.code), SQLBind(kind), SQLBind(chargerKW),
                            SQLBind("active"), SQLBind(now), SQLBind(key))
                    .run()
                made.append(spot)
            }
            try await audit.append(actor.record("create", resourceType: "parking_spot", details: ["zone": zoneID, "spots": String(codes.count)]),
                                   in: database, scope: scope)
            return made
        }
    }

    package func spots(of zoneID: String, in scope: TenantScope) async throws -> [Spot] {
        let table = try scope.table("parking_spots")
        return try await scope.read {
            try await $0.select().columns(Spot.columns).from(table).where("zone_id", .equal, zoneID).orderBy("code").limit(2000).all(decoding: Spot.self)
        }
    }

    /// Takes a spot out of service (its future bookings stay; the attendant moves them) or back.
    package func setSpotStatus(_ id: String, to status: String, in scope: TenantScope, by actor: AuditActor) async throws -> Spot {
        guard ["active", "out_of_service"].contains(status) else { throw ParkingError.invalid([.init(field: "status", message: "must be active or out_of_service")]) }
        let table = try scope.table("parking_spots")
        let audit = self.audit
        return try await scope.transaction { database in
            guard var spot = try await database.select().columns(Spot.columns).from(table).where("id", .equal, id).first(decoding: Spot.self) else {
                throw ParkingError.notFound("spot")
            }
            spot.status = status
            try await database.update(table).set("status", to: status).where("id", .equal, id).run()
            try await audit.append(actor.record("update", resourceType: "parking_spot", resourceID: id, details: ["status": status]), in: database, scope: scope)
            return spot
        }
    }

    /// Registers a vehicle for a member of staff or a patient of the clinic.
    package func addVehicle(plate: String, country: String, ownerType: String, ownerID: String, make: String?, colour: String?, in scope: TenantScope,
                            by actor: AuditActor) async throws -> Vehicle {
        var errors: [Problem.FieldError] = []
        let normalised = Plate.normalised(plate)
        if normalised == nil { errors.append(.init(field: "plate", message: "must be 2 to 10 letters and digits (spaces and dashes are ignored)")) }
        if !TextRules.matches(country, "^[A-Z]{2}$") { errors.append(.init(field: "country", message: "must be an ISO 3166 country code such as GB")) }
        if !["user", "patient"].contains(ownerType) { errors.append(.init(field: "owner_type", message: "must be user or patient")) }
        if let message = ParameterFormat.uuid.problem(with: ownerID) { errors.append(.init(field: "owner_id", message: message)) }
        Self.name.check(make, "make", into: &errors)
        Self.name.check(colour, "colour", into: &errors)
        guard errors.isEmpty, let normalised else { throw ParkingError.invalid(errors) }
        let owners = try scope.table(ownerType == "patient" ? "patients" : "users"), vehicles = try scope.table("parking_vehicles")
        let vehicle = Vehicle(id: UUIDv7.id(), plate: normalised, country: country, ownerType: ownerType, ownerID: ownerID, make: make, colour: colour,
                              createdAt: Timestamp.now())
        let audit = self.audit, keys = try await plates.keys(for: scope)
        let stored = try keys.stored(normalised, vehicleID: vehicle.id, patient: ownerType == "patient")
        try await scope.transaction { database in
            guard try await database.select().column("id").from(owners).where("id", .equal, ownerID).first() != nil else {
                throw ParkingError.invalid([.init(field: "owner_id", message: "names no \(ownerType) of this clinic")])
            }
            if try await database.select().column("id").from(vehicles).where("plate", .in, keys.matching(normalised)).first() != nil {
                throw ParkingError.conflict("A vehicle with the plate \(normalised) is registered already.")
            }
            try await database.insert(into: vehicles).columns(Vehicle.columns)
                .values(SQLBind(vehicle.id), SQLBind(stored.plate), SQLBind(stored.sealed), SQLBind(vehicle.country), SQLBind(vehicle.ownerType),
                        SQLBind(vehicle.ownerID), SQLBind(vehicle.make), SQLBind(vehicle.colour), SQLBind(vehicle.createdAt))
                .run()
            try await audit.append(actor.record("create", resourceType: "parking_vehicle", resourceID: vehicle.id,
                                                patientID: ownerType == "patient" ? ownerID : nil, details: vehicle.auditDetails), in: database, scope: scope)
        }
        return vehicle
    }

    package func vehicle(plate: String, in scope: TenantScope, by actor: AuditActor) async throws -> Vehicle {
        guard let normalised = Plate.normalised(plate) else { throw ParkingError.invalid([.init(field: "plate", message: "is not a plate")]) }
        let table = try scope.table("parking_vehicles"), keys = try await plates.keys(for: scope)
        guard let vehicle = try await scope.read({
            try await $0.select().columns(Vehicle.columns).from(table).where("plate", .in, keys.matching(normalised)).first().map(keys.vehicle)
        }) else { throw ParkingError.notFound("vehicle") }
        try await audit.recordRead(actor.record("read", resourceType: "parking_vehicle", resourceID: vehicle.id,
                                                patientID: vehicle.ownerType == "patient" ? vehicle.ownerID : nil), in: scope)
        return vehicle
    }

    // MARK: Helpers

    private func insert<Row: Encodable & Sendable>(_ row: Row, into name: String, resource: String, id: String, in scope: TenantScope, by actor: AuditActor) async throws {
        let table = try scope.table(name)
        let audit = self.audit
        try await scope.transaction { database in
            try await database.insert(into: table).model(row).run()
            try await audit.append(actor.record("create", resourceType: resource, resourceID: id), in: database, scope: scope)
        }
    }

    func requireRow(_ table: String, _ id: String, _ what: String, in scope: TenantScope) async throws {
        guard ParameterFormat.uuid.problem(with: id) == nil else { throw ParkingError.notFound(what) }
        let table = try scope.table(table)
        guard try await scope.read({ try await $0.select().column("id").from(table).where("id", .equal, id).first() }) != nil else {
            throw ParkingError.notFound(what)
        }
    }
}
