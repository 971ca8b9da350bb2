package import Foundation
import SQLKit
package import WardAudit
import WardBilling
package import WardCore
package import WardHTTP
package import OpenAPIKit
package import WardStorage

/// A free spot for a time window, as availability search lists it.
package struct FreeSpot: Codable, Sendable, APIResponseBody {
    package var id: String
    package var code: String
    package var zoneID: String
    package var kind: String
    package var chargerKW: Int?
    enum CodingKeys: String, CodingKey { case id, code, kind, zoneID = "zone_id", chargerKW = "charger_kw" }
}

/// A zone's spots right now.
package struct ZoneOccupancy: Codable, Sendable, APIResponseBody {
    package var zoneID: String
    package var name: String
    package var kind: String
    package var spots: Int
    package var outOfService: Int
    package var occupied: Int
    package var reserved: Int
    package var overstaying: Int
    enum CodingKeys: String, CodingKey {
        case name, kind, spots, occupied, reserved, overstaying
        case zoneID = "zone_id", outOfService = "out_of_service"
    }
}

package struct Occupancy: Codable, Sendable, APIResponseBody {
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["at": .dateTime] }
    package var facilityID: String
    package var at: String
    package var zones: [ZoneOccupancy]
    enum CodingKeys: String, CodingKey { case at, zones, facilityID = "facility_id" }
}

extension ParkingService {
    /// What a booking asks for: a spot, or any active spot of `kind` in `zoneID`.
    package struct Request: Sendable {
        package var vehicleID: String
        package var spotID: String?
        package var zoneID: String?
        package var kind: String?
        package var startsAt: String
        package var endsAt: String

        package init(vehicleID: String, spotID: String?, zoneID: String?, kind: String?, startsAt: String, endsAt: String) {
            self.vehicleID = vehicleID
            self.spotID = spotID
            self.zoneID = zoneID
            self.kind = kind
            self.startsAt = startsAt
            self.endsAt = endsAt
        }
    }

    /// The window as Unix seconds, checked: it ends after it starts, lasts at most 31 days and
    /// starts within a year.
    static func window(_ start: String, _ end: String, now: Date = Date()) throws -> (start: Int64, end: Int64) {
        var errors: [Problem.FieldError] = []
        let from = TextRules.rfc3339(start), to = TextRules.rfc3339(end)
        if from == nil { errors.append(.init(field: "starts_at", message: "must be an RFC 3339 time")) }
        if to == nil { errors.append(.init(field: "ends_at", message: "must be an RFC 3339 time")) }
        if let from, let to {
            if to <= from { errors.append(.init(field: "ends_at", message: "must be after starts_at")) }
            if to.timeIntervalSince(from) > longest { errors.append(.init(field: "ends_at", message: "must be within 31 days of starts_at")) }
            if from.timeIntervalSince(now) > horizon { errors.append(.init(field: "starts_at", message: "must be within a year from now")) }
            if to < now { errors.append(.init(field: "ends_at", message: "must be in the future")) }
        }
        guard errors.isEmpty, let from, let to else { throw ParkingError.invalid(errors) }
        // Whole seconds: an end and the next start written alike are one instant, which both
        // windows may touch.
        let start = Int64(from.timeIntervalSince1970.rounded(.down)), end = Int64(to.timeIntervalSince1970.rounded(.down))
        guard end > start else { throw ParkingError.invalid([.init(field: "ends_at", message: "must be at least a second after starts_at")]) }
        return (start, end)
    }

    /// Active spots free for the whole window, by code; answered from the spots' index and the
    /// bookings' (spot, start) index.
    package func available(facilityID: String, zoneID: String?, kind: String?, startsAt: String, endsAt: String, limit: Int,
                           in scope: TenantScope) async throws -> [FreeSpot] {
        let window = try Self.window(startsAt, endsAt)
        return try await scope.read { database in
            try await Self.free(facilityID: facilityID, zoneID: zoneID, kind: kind, window: window, limit: limit, in: database, scope: scope)
        }
    }

    static func free(facilityID: String?, zoneID: String?, kind: String?, window: (start: Int64, end: Int64), limit: Int,
                     in database: any SQLDatabase, scope: TenantScope) async throws -> [FreeSpot] {
        let spots = try scope.table("parking_spots"), bookings = try scope.table("parking_bookings")
        var filter = SQLQueryString("")
        if let facilityID { filter = filter + " AND s.facility_id = \(bind: facilityID)" }
        if let zoneID { filter = filter + " AND s.zone_id = \(bind: zoneID)" }
        if let kind { filter = filter + " AND s.kind = \(bind: kind)" }
        let query: SQLQueryString = """
            SELECT s.id, s.code, s.zone_id, s.kind, s.charger_kw FROM \(spots) s
            WHERE s.status = 'active'\(filter)
              AND NOT EXISTS (SELECT 1 FROM \(bookings) b WHERE b.spot_id = s.id AND b.status IN ('reserved', 'checked_in')
                              AND b.starts_epoch < \(bind: window.end) AND b.ends_epoch > \(bind: window.start))
            ORDER BY s.code LIMIT \(bind: limit)
            """
        return try await database.raw(query).all().map { row in
            FreeSpot(id: try row.decode(column: "id", as: String.self), code: try row.decode(column: "code", as: String.self),
                     zoneID: try row.decode(column: "zone_id", as: String.self), kind: try row.decode(column: "kind", as: String.self),
                     chargerKW: try row.decode(column: "charger_kw", as: Int?.self))
        }
    }

    /// Books a spot for a vehicle. A named spot must be free for the whole window (409
    /// otherwise); "any spot" takes the first free one of the kind in the zone, trying the
    /// next when a concurrent booking took it first. Ends touching starts do not overlap.
    package func book(_ request: Request, in scope: TenantScope, by actor: AuditActor) async throws -> Booking {
        var errors: [Problem.FieldError] = []
        if let message = ParameterFormat.uuid.problem(with: request.vehicleID) { errors.append(.init(field: "vehicle_id", message: message)) }
        switch (request.spotID, request.zoneID) {
        case (let spot?, nil):
            if let message = ParameterFormat.uuid.problem(with: spot) { errors.append(.init(field: "spot_id", message: message)) }
        case (nil, let zone?):
            if let message = ParameterFormat.uuid.problem(with: zone) { errors.append(.init(field: "zone_id", message: message)) }
        default:
            errors.append(.init(field: "spot_id", message: "name a spot, or a zone (and a kind) for any spot of it, not both"))
        }
        if let kind = request.kind, !Spot.kinds.contains(kind) { errors.append(.init(field: "kind", message: "must be standard, accessible, ev or motorcycle")) }
        guard errors.isEmpty else { throw ParkingError.invalid(errors) }
        let window = try Self.window(request.startsAt, request.endsAt)
        // A clinic restored from a backup may not be recorded yet: its first booking records it.
        try await tenants.record(scope.tenant.id)
        do {
            let booking = try await bookOnce(request, window: window, in: scope, by: actor)
            metrics.booking("booked")
            return booking
        } catch ParkingError.spotTaken {
            metrics.booking("spot_taken")
            throw ParkingError.spotTaken
        } catch ParkingError.zoneFull {
            metrics.booking("zone_full")
            throw ParkingError.zoneFull
        }
    }

    private func bookOnce(_ request: Request, window: (start: Int64, end: Int64), in scope: TenantScope, by actor: AuditActor) async throws -> Booking {
        for _ in 0..<8 {
            do {
                return try await attempt(request, window: window, in: scope, by: actor)
            } catch let error where isConstraintConflict(error) {
                // PostgreSQL's exclusion constraint refused it: a concurrent booking won the
                // spot. A named spot is taken; "any spot" looks again.
                if request.spotID != nil { throw ParkingError.spotTaken }
            }
        }
        throw ParkingError.zoneFull
    }

    private func attempt(_ request: Request, window: (start: Int64, end: Int64), in scope: TenantScope, by actor: AuditActor) async throws -> Booking {
        let spots = try scope.table("parking_spots"), vehicles = try scope.table("parking_vehicles")
        let audit = self.audit, keys = try await plates.keys(for: scope)
        let id = UUIDv7.id(), now = Timestamp.now()
        return try await scope.transaction { database in
            guard let vehicle = try await database.select().columns(Vehicle.columns).from(vehicles).where("id", .equal, request.vehicleID)
                .first().map(keys.vehicle) else {
                throw ParkingError.invalid([.init(field: "vehicle_id", message: "names no registered vehicle")])
            }
            let spotID: String
            if let named = request.spotID {
                guard let spot = try await database.select().columns("id", "status").from(spots).where("id", .equal, named).first() else {
                    throw ParkingError.notFound("spot")
                }
                guard try spot.decode(column: "status", as: String.self) == "active" else { throw ParkingError.conflict("The spot is out of service.") }
                guard try await !Self.overlaps("spot_id", named, window, in: database, scope: scope) else { throw ParkingError.spotTaken }
                spotID = named
            } else {
                guard let zone = request.zoneID else { throw ParkingError.zoneFull }
                // One of the first free spots, at random: concurrent requests for a zone (on
                // PostgreSQL, where they do not queue behind one writer) then rarely reach for
                // the same spot and lose it to the exclusion constraint.
                guard let free = try await Self.free(facilityID: nil, zoneID: zone, kind: request.kind, window: window, limit: 16,
                                                     in: database, scope: scope).randomElement() else {
                    throw ParkingError.zoneFull
                }
                spotID = free.id
            }
            if try await Self.overlaps("vehicle_id", vehicle.id, window, in: database, scope: scope) {
                throw ParkingError.conflict("The vehicle \(vehicle.plate) is booked elsewhere for part of that time.")
            }
            return try await Self.insert(Stay(id: id, spotID: spotID, vehicle: vehicle, window: window, status: "reserved", checkedInAt: nil, permitID: nil),
                                         createdAt: now, in: database, scope: scope, plates: keys, audit: audit, by: actor)
        }
    }

    /// A booking to write: reserved ahead, or checked in at once on a permit.
    struct Stay {
        var id: String
        var spotID: String
        var vehicle: Vehicle
        var window: (start: Int64, end: Int64)
        var status: String
        var checkedInAt: String?
        var permitID: String?
    }

    /// Writes `stay` and its audit event in the caller's transaction; PostgreSQL's exclusion
    /// constraint refuses it when another live booking holds the spot for part of the window.
    static func insert(_ stay: Stay, createdAt: String, in database: any SQLDatabase, scope: TenantScope, plates: PlateKeys, audit: AuditTrail,
                       by actor: AuditActor) async throws -> Booking {
        let spots = try scope.table("parking_spots"), bookings = try scope.table("parking_bookings")
        guard let spot = try await database.select().columns("spot_key", "zone_id", "facility_id").from(spots).where("id", .equal, stay.spotID).first() else {
            throw ParkingError.notFound("spot")
        }
        let startsAt = Timestamp.text(Date(timeIntervalSince1970: Double(stay.window.start)))
        let endsAt = Timestamp.text(Date(timeIntervalSince1970: Double(stay.window.end)))
        let patientID = stay.vehicle.ownerType == "patient" ? stay.vehicle.ownerID : nil
        let plate = try plates.stored(stay.vehicle.plate, vehicleID: stay.vehicle.id, patient: patientID != nil)
        try await database.insert(into: bookings)
            .columns("id", "spot_id", "spot_key", "zone_id", "facility_id", "vehicle_id", "plate", "plate_sealed", "patient_id", "starts_at", "ends_at", "starts_epoch",
                     "ends_epoch", "status", "checked_in_at", "permit_id", "created_by", "created_at")
            .values(SQLBind(stay.id), SQLBind(stay.spotID), SQLBind(try spot.decode(column: "spot_key", as: Int.self)),
                    SQLBind(try spot.decode(column: "zone_id", as: String.self)), SQLBind(try spot.decode(column: "facility_id", as: String.self)),
                    SQLBind(stay.vehicle.id), SQLBind(plate.plate), SQLBind(plate.sealed), SQLBind(patientID), SQLBind(startsAt), SQLBind(endsAt),
                    SQLBind(stay.window.start), SQLBind(stay.window.end), SQLBind(stay.status), SQLBind(stay.checkedInAt), SQLBind(stay.permitID),
                    SQLBind(actor.id), SQLBind(createdAt))
            .run()
        // Read back before the audit event: the append holds the tenant's trail (on PostgreSQL
        // an advisory lock to the commit), so nothing else waits behind it.
        let booking = try await Self.booking(stay.id, in: database, scope: scope, plates: plates)
        var details = stay.vehicle.auditDetails.merging(["spot": booking.spotCode ?? ""]) { old, _ in old }
        if let permit = stay.permitID { details["permit"] = permit }
        try await audit.append(actor.record(stay.status == "checked_in" ? "check_in" : "create", resourceType: "parking_booking", resourceID: stay.id,
                                            patientID: patientID, details: details), in: database, scope: scope)
        return booking
    }

    /// Whether a live booking of the spot or vehicle (`column` = `spot_id` or `vehicle_id`)
    /// overlaps `window`: read from the partial indexes of live bookings alone (the status
    /// test is written as the indexes' own predicate so that both databases use them).
    static func overlaps(_ column: String, _ value: String, _ window: (start: Int64, end: Int64), in database: any SQLDatabase,
                         scope: TenantScope) async throws -> Bool {
        let bookings = try scope.table("parking_bookings")
        return try await database.raw("""
            SELECT 1 AS hit FROM \(bookings) WHERE \(ident: column) = \(bind: value) AND status IN ('reserved', 'checked_in')
              AND ends_epoch > \(bind: window.start) AND starts_epoch < \(bind: window.end) LIMIT 1
            """).first() != nil
    }

    static func booking(_ id: String, in database: any SQLDatabase, scope: TenantScope, plates: PlateKeys) async throws -> Booking {
        let bookings = try scope.table("parking_bookings"), spots = try scope.table("parking_spots")
        guard let row = try await database.raw("""
            SELECT b.*, s.code FROM \(bookings) b JOIN \(spots) s ON s.id = b.spot_id WHERE b.id = \(bind: id)
            """).first() else { throw ParkingError.notFound("booking") }
        return try Booking.from(row, plates: plates)
    }

    /// Bookings of a facility, by status, soonest first.
    package func bookings(facilityID: String?, status: String?, limit: Int, in scope: TenantScope, by actor: AuditActor) async throws -> [Booking] {
        let bookings = try scope.table("parking_bookings"), spots = try scope.table("parking_spots")
        var filter = SQLQueryString("")
        if let facilityID { filter = filter + " AND b.facility_id = \(bind: facilityID)" }
        if let status { filter = filter + " AND b.status = \(bind: status)" }
        let conditions = filter, keys = try await plates.keys(for: scope)
        let found = try await scope.read { database in
            try await database.raw("""
                SELECT b.*, s.code FROM \(bookings) b JOIN \(spots) s ON s.id = b.spot_id WHERE 1 = 1\(conditions) ORDER BY b.starts_epoch LIMIT \(bind: limit)
                """).all().map { try Booking.from($0, plates: keys) }
        }
        for patient in Set(found.compactMap(\.patientID)).sorted() {
            try await audit.recordRead(actor.record("read", resourceType: "parking_booking", patientID: patient), in: scope)
        }
        return found
    }

    package func cancel(_ id: String, in scope: TenantScope, by actor: AuditActor) async throws -> Booking {
        try await transition(id, from: ["reserved"], to: "cancelled", action: "cancel", in: scope, by: actor)
    }

    private func transition(_ id: String, from: [String], to status: String, action: String, set extra: [String: any Encodable & Sendable] = [:],
                            in scope: TenantScope, by actor: AuditActor) async throws -> Booking {
        let bookings = try scope.table("parking_bookings")
        let audit = self.audit, keys = try await plates.keys(for: scope)
        return try await scope.transaction { database in
            let booking = try await Self.booking(id, in: database, scope: scope, plates: keys)
            guard from.contains(booking.status) else { throw ParkingError.conflict("The booking is \(booking.status).") }
            let update = database.update(bookings).set("status", to: status)
            for (column, value) in extra { update.set(column, to: SQLBind(value)) }
            try await update.where("id", .equal, id).where("status", .equal, booking.status).run()
            let changed = try await Self.booking(id, in: database, scope: scope, plates: keys)
            try await audit.append(actor.record(action, resourceType: "parking_booking", resourceID: id, patientID: booking.patientID,
                                                details: booking.patientID == nil ? ["plate": booking.plate] : [:]), in: database, scope: scope)
            return changed
        }
    }

    // MARK: At the gate

    /// Checks a vehicle in by its plate (a scanner or a gate): its reservation at the facility
    /// that starts within 30 minutes or has started and not ended; without one, a staff permit
    /// valid now (`enterOnPermit`).
    package func checkIn(plate: String, facilityID: String, at now: Date = Date(), in scope: TenantScope, by actor: AuditActor) async throws -> Booking {
        guard let normalised = Plate.normalised(plate) else { throw ParkingError.invalid([.init(field: "plate", message: "is not a plate")]) }
        let bookings = try scope.table("parking_bookings")
        let epoch = Int64(now.timeIntervalSince1970), matching = try await plates.keys(for: scope).matching(normalised)
        let (reservation, parked) = try await scope.read { database -> (String?, Bool) in
            let parked = try await database.select().column("id").from(bookings).where("plate", .in, matching).where("status", .equal, "checked_in")
                .first() != nil
            let reservation = try await database.select().column("id").from(bookings).where("plate", .in, matching).where("facility_id", .equal, facilityID)
                .where("status", .equal, "reserved").where("starts_epoch", .lessThanOrEqual, epoch + 1_800).where("ends_epoch", .greaterThan, epoch)
                .orderBy("starts_epoch").first()?.decode(column: "id", as: String.self)
            return (reservation, parked)
        }
        if parked { throw ParkingError.conflict("The vehicle \(normalised) is checked in already; check it out first.") }
        let booking: Booking
        if let reservation {
            booking = try await transition(reservation, from: ["reserved"], to: "checked_in", action: "check_in", set: ["checked_in_at": Timestamp.text(now)],
                                           in: scope, by: actor)
        } else if let entered = try await enterOnPermit(plate: normalised, facilityID: facilityID, at: now, in: scope, by: actor) {
            booking = entered
        } else {
            throw ParkingError.notFound("reservation or permit for \(normalised) at this facility now")
        }
        metrics.gate(booking.permitID == nil ? "check_in" : "permit_entry")
        return booking
    }

    /// Checks a vehicle out: the stay is priced by its zone's rates; a patient's is added to a
    /// draft invoice of theirs, anyone else pays at the exit.
    package func checkOut(plate: String, facilityID: String, at now: Date = Date(), in scope: TenantScope, by actor: AuditActor) async throws -> Booking {
        guard let normalised = Plate.normalised(plate) else { throw ParkingError.invalid([.init(field: "plate", message: "is not a plate")]) }
        let bookings = try scope.table("parking_bookings"), zones = try scope.table("parking_zones"), keys = try await plates.keys(for: scope)
        let found = try await scope.read { database -> (String, String, Zone)? in
            guard let row = try await database.select().columns("id", "checked_in_at", "zone_id").from(bookings).where("plate", .in, keys.matching(normalised))
                .where("facility_id", .equal, facilityID).where("status", .equal, "checked_in").first() else { return nil }
            guard let zone = try await database.select().columns(Zone.columns).from(zones).where("id", .equal, try row.decode(column: "zone_id", as: String.self))
                .first(decoding: Zone.self) else { return nil }
            return (try row.decode(column: "id", as: String.self), try row.decode(column: "checked_in_at", as: String.self), zone)
        }
        guard let (id, checkedIn, zone) = found else { throw ParkingError.notFound("vehicle \(normalised) parked at this facility") }
        let minutes = max(0, Int(now.timeIntervalSince(Timestamp.date(checkedIn) ?? now) / 60))
        let current = try await scope.read { try await Self.booking(id, in: $0, scope: scope, plates: keys) }
        // A stay on a permit is free, as staff zones are.
        let amount = current.permitID != nil ? 0 : Self.price(minutes: minutes, zone: zone, patient: current.patientID != nil)
        var extra: [String: any Encodable & Sendable] = ["checked_out_at": Timestamp.text(now), "amount": amount]
        if amount > 0, let patientID = current.patientID, let billing {
            let hours = Double(minutes) / 60
            let invoice = try await billing.createDraft(patientID: patientID, lines: [LineRequest(
                description: "Parking \(zone.name), \(String(format: "%.1f", hours)) h (\(normalised))", unitAmount: amount, taxRateBP: 0, quantity: 1
            )], note: nil, in: scope, by: actor)
            extra["invoice_id"] = invoice.id
        }
        let completed = try await transition(id, from: ["checked_in"], to: "completed", action: "check_out", set: extra, in: scope, by: actor)
        metrics.gate("check_out")
        return completed
    }

    /// A stay's price: staff zones are free; a patient's first free minutes cost nothing; then
    /// each started hour at the zone's rate, each whole day at most the daily cap.
    package static func price(minutes: Int, zone: Zone, patient: Bool) -> Int64 {
        if zone.kind == "staff" || minutes == 0 || (patient && minutes <= zone.freeMinutes) { return 0 }
        let hours = (minutes + 59) / 60
        let days = Int64(hours / 24), rest = Int64(hours % 24)
        return days * zone.dailyCap + min(rest * zone.hourlyRate, zone.dailyCap)
    }

    /// Reservations not checked in within the grace period after their start become no-shows,
    /// freeing their spot; returns how many.
    @discardableResult
    package func markNoShows(at now: Date = Date(), in scope: TenantScope) async throws -> Int {
        let bookings = try scope.table("parking_bookings")
        let cutoff = Int64(now.timeIntervalSince1970 - Self.gracePeriod)
        let audit = self.audit
        let marked = try await scope.transaction { database in
            let rows = try await database.update(bookings).set("status", to: "no_show").where("status", .equal, "reserved")
                .where("starts_epoch", .lessThan, cutoff).returning("id", "patient_id").all()
            for row in rows {
                try await audit.append(AuditActor.system.record("no_show", resourceType: "parking_booking", resourceID: try row.decode(column: "id", as: String.self),
                                                                patientID: try row.decode(column: "patient_id", as: String?.self)), in: database, scope: scope)
            }
            return rows.count
        }
        metrics.noShows(marked)
        return marked
    }

    /// Each zone's spots now: in service, occupied, reserved, and stays past their end.
    package func occupancy(facilityID: String, at now: Date = Date(), in scope: TenantScope) async throws -> Occupancy {
        try await requireRow("parking_facilities", facilityID, "facility", in: scope)
        let zones = try await zones(of: facilityID, in: scope)
        let spots = try scope.table("parking_spots"), bookings = try scope.table("parking_bookings")
        let epoch = Int64(now.timeIntervalSince1970)
        let counts = try await scope.read { database -> ([String: (Int, Int)], [String: (Int, Int, Int)]) in
            var spotCounts: [String: (Int, Int)] = [:]
            for row in try await database.raw("""
                SELECT zone_id, COUNT(*) AS total, SUM(CASE WHEN status = 'out_of_service' THEN 1 ELSE 0 END) AS down
                FROM \(spots) WHERE facility_id = \(bind: facilityID) GROUP BY zone_id
                """).all() {
                spotCounts[try row.decode(column: "zone_id", as: String.self)] = (try row.decode(column: "total", as: Int.self), try row.decode(column: "down", as: Int?.self) ?? 0)
            }
            var bookingCounts: [String: (Int, Int, Int)] = [:]
            for row in try await database.raw("""
                SELECT zone_id,
                       SUM(CASE WHEN status = 'checked_in' THEN 1 ELSE 0 END) AS occupied,
                       SUM(CASE WHEN status = 'reserved' THEN 1 ELSE 0 END) AS reserved,
                       SUM(CASE WHEN status = 'checked_in' AND ends_epoch < \(bind: epoch) THEN 1 ELSE 0 END) AS overstaying
                FROM \(bookings) WHERE facility_id = \(bind: facilityID)
                  AND (status = 'checked_in' OR (status = 'reserved' AND starts_epoch <= \(bind: epoch) AND ends_epoch > \(bind: epoch)))
                GROUP BY zone_id
                """).all() {
                bookingCounts[try row.decode(column: "zone_id", as: String.self)] = (try row.decode(column: "occupied", as: Int?.self) ?? 0,
                                                                                     try row.decode(column: "reserved", as: Int?.self) ?? 0,
                                                                                     try row.decode(column: "overstaying", as: Int?.self) ?? 0)
            }
            return (spotCounts, bookingCounts)
        }
        return Occupancy(facilityID: facilityID, at: Timestamp.text(now), zones: zones.map { zone in
            let spots = counts.0[zone.id] ?? (0, 0), booked = counts.1[zone.id] ?? (0, 0, 0)
            return ZoneOccupancy(zoneID: zone.id, name: zone.name, kind: zone.kind, spots: spots.0, outOfService: spots.1, occupied: booked.0,
                                 reserved: booked.1, overstaying: booked.2)
        })
    }
}
