package import Foundation
package import OpenAPIKit
import SQLKit
package import WardAudit
package import WardCore
package import WardHTTP
package import WardStorage

/// A member of staff's standing right to park: on its days, between its hours in the car
/// park's local time (an end at or before the start runs past midnight, for night shifts),
/// from its first to its last valid day, in its zone or any staff zone of the car park.
package struct Permit: Codable, Sendable, Equatable, APIResponseBody {
    package static let weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
        ["days": .array(items: .enumeration(weekdays)), "status": .enumeration(["active", "revoked"]), "valid_from": .date, "valid_until": .date,
         "created_at": .dateTime]
    }
    package var id: String
    package var vehicleID: String
    package var plate: String
    package var facilityID: String
    package var zoneID: String?
    package var days: [String]
    package var fromTime: String
    package var untilTime: String
    package var validFrom: String
    package var validUntil: String
    package var status: String
    package var createdAt: String
    enum CodingKeys: String, CodingKey {
        case id, days, status, plate
        case vehicleID = "vehicle_id", facilityID = "facility_id", zoneID = "zone_id", fromTime = "from_time", untilTime = "until_time",
             validFrom = "valid_from", validUntil = "valid_until", createdAt = "created_at"
    }

    static func from(_ row: any SQLRow) throws -> Permit {
        Permit(
            id: try row.decode(column: "id", as: String.self), vehicleID: try row.decode(column: "vehicle_id", as: String.self),
            plate: try row.decode(column: "plate", as: String.self),
            facilityID: try row.decode(column: "facility_id", as: String.self), zoneID: try row.decode(column: "zone_id", as: String?.self),
            days: try row.decode(column: "days", as: String.self).split(separator: ",").map(String.init),
            fromTime: try row.decode(column: "from_time", as: String.self), untilTime: try row.decode(column: "until_time", as: String.self),
            validFrom: try row.decode(column: "valid_from", as: String.self), validUntil: try row.decode(column: "valid_until", as: String.self),
            status: try row.decode(column: "status", as: String.self), createdAt: try row.decode(column: "created_at", as: String.self)
        )
    }

    /// The window the permit opens around `now` in `timeZone`: today's, or yesterday's when it
    /// runs past midnight; nil when it opens none. Days and hours are the car park's local
    /// ones, so a 07:00 start is 07:00 on the clock on either side of a daylight-saving change.
    package func window(around now: Date, in timeZone: TimeZone) -> (start: Date, end: Date)? {
        guard status == "active", let from = LocalTime.minutes(fromTime), let until = LocalTime.minutes(untilTime) else { return nil }
        let calendar = LocalTime.calendar(timeZone)
        let today = calendar.startOfDay(for: now)
        for offset in [-1, 0] {
            guard let day = calendar.date(byAdding: .day, value: offset, to: today) else { continue }
            let date = LocalTime.dayText(day, calendar)
            guard date >= validFrom, date <= validUntil, days.contains(LocalTime.weekday(day, calendar)) else { continue }
            guard let start = LocalTime.instant(on: day, minutes: from, calendar),
                  let end = LocalTime.instant(on: day, minutes: until <= from ? until + 1_440 : until, calendar) else { continue }
            if start <= now, now < end { return (start, end) }
        }
        return nil
    }
}

/// Clock times and days of a car park's own time zone.
package enum LocalTime {
    /// The Gregorian calendar of `timeZone`, by which a car park's days and hours are read.
    static func calendar(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// Minutes after midnight of `HH:MM` (00:00 to 24:00).
    package static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard text.count == 5, parts.count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]), (0...59).contains(minutes),
              (0...23).contains(hours) || (hours == 24 && minutes == 0) else { return nil }
        return hours * 60 + minutes
    }

    /// The instant `minutes` after the local midnight starting `day` (past 24:00 on the next
    /// day), as the clock on the wall shows it: a time that a spring change skips is the first
    /// instant after the gap.
    static func instant(on day: Date, minutes: Int, _ calendar: Calendar) -> Date? {
        var components = calendar.dateComponents([.year, .month, .day], from: day)
        components.day = (components.day ?? 1) + minutes / 1_440
        components.hour = (minutes % 1_440) / 60
        components.minute = minutes % 60
        return calendar.date(from: components)
    }

    /// `YYYY-MM-DD` of the local day starting at `day`.
    static func dayText(_ day: Date, _ calendar: Calendar) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: day)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    static func weekday(_ day: Date, _ calendar: Calendar) -> String {
        // Calendar's weekday 1 is Sunday.
        Permit.weekdays[(calendar.component(.weekday, from: day) + 5) % 7]
    }

    /// The local day `date` (`YYYY-MM-DD`) in `timeZone` as an instant range: 23 or 25 hours
    /// long on the days the clocks change.
    package static func day(_ date: String, in timeZone: TimeZone) -> (start: Date, end: Date)? {
        let calendar = calendar(timeZone)
        let parts = date.split(separator: "-").compactMap { Int($0) }
        guard date.count == 10, parts.count == 3,
              let noon = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: 12)),
              dayText(noon, calendar) == date else { return nil }
        let start = calendar.startOfDay(for: noon)
        guard let end = calendar.date(byAdding: .day, value: 1, to: start) else { return nil }
        return (start, end)
    }
}

extension ParkingService {
    /// What a permit is issued with.
    package struct PermitRequest: Sendable {
        package var vehicleID: String
        package var facilityID: String
        package var zoneID: String?
        package var days: [String]
        package var fromTime: String
        package var untilTime: String
        package var validFrom: String
        package var validUntil: String

        package init(vehicleID: String, facilityID: String, zoneID: String?, days: [String], fromTime: String, untilTime: String, validFrom: String,
                     validUntil: String) {
            self.vehicleID = vehicleID
            self.facilityID = facilityID
            self.zoneID = zoneID
            self.days = days
            self.fromTime = fromTime
            self.untilTime = untilTime
            self.validFrom = validFrom
            self.validUntil = validUntil
        }
    }

    /// Issues a permit for a staff member's vehicle, in a staff zone of the car park.
    package func issuePermit(_ request: PermitRequest, in scope: TenantScope, by actor: AuditActor) async throws -> Permit {
        var errors: [Problem.FieldError] = []
        for (field, id) in [("vehicle_id", request.vehicleID), ("facility_id", request.facilityID), ("zone_id", request.zoneID)] {
            guard let id else { continue }
            if let message = ParameterFormat.uuid.problem(with: id) { errors.append(.init(field: field, message: message)) }
        }
        if request.days.isEmpty || request.days.contains(where: { !Permit.weekdays.contains($0) }) {
            errors.append(.init(field: "days", message: "must name weekdays: mon, tue, wed, thu, fri, sat, sun"))
        }
        let from = LocalTime.minutes(request.fromTime), until = LocalTime.minutes(request.untilTime)
        if from == nil || from == 1_440 { errors.append(.init(field: "from_time", message: "must be HH:MM, 00:00 to 23:59")) }
        if until == nil { errors.append(.init(field: "until_time", message: "must be HH:MM, 00:00 to 24:00")) }
        let utc = TimeZone(identifier: "UTC")!
        let first = LocalTime.day(request.validFrom, in: utc), last = LocalTime.day(request.validUntil, in: utc)
        if first == nil { errors.append(.init(field: "valid_from", message: "must be a date YYYY-MM-DD")) }
        if last == nil { errors.append(.init(field: "valid_until", message: "must be a date YYYY-MM-DD")) }
        if let first, let last {
            if last.start < first.start { errors.append(.init(field: "valid_until", message: "must not be before valid_from")) }
            if last.start.timeIntervalSince(first.start) > 3 * 366 * 86_400 { errors.append(.init(field: "valid_until", message: "must be within 3 years of valid_from")) }
        }
        guard errors.isEmpty else { throw ParkingError.invalid(errors) }
        let vehicles = try scope.table("parking_vehicles"), zones = try scope.table("parking_zones"), permits = try scope.table("parking_permits")
        let facilities = try scope.table("parking_facilities")
        let days = Permit.weekdays.filter(request.days.contains)
        var permit = Permit(id: UUIDv7.id(), vehicleID: request.vehicleID, plate: "", facilityID: request.facilityID, zoneID: request.zoneID, days: days,
                            fromTime: request.fromTime, untilTime: request.untilTime, validFrom: request.validFrom, validUntil: request.validUntil,
                            status: "active", createdAt: Timestamp.now())
        let audit = self.audit
        permit = try await scope.transaction { [permit] database in
            var permit = permit
            guard let owner = try await database.select().columns("owner_type", "plate").from(vehicles).where("id", .equal, request.vehicleID).first() else {
                throw ParkingError.invalid([.init(field: "vehicle_id", message: "names no registered vehicle")])
            }
            guard try owner.decode(column: "owner_type", as: String.self) == "user" else {
                throw ParkingError.invalid([.init(field: "vehicle_id", message: "permits are for staff vehicles; patients and visitors book")])
            }
            permit.plate = try owner.decode(column: "plate", as: String.self)
            guard try await database.select().column("id").from(facilities).where("id", .equal, request.facilityID).first() != nil else {
                throw ParkingError.notFound("facility")
            }
            if let zoneID = request.zoneID {
                guard let zone = try await database.select().columns("facility_id", "kind").from(zones).where("id", .equal, zoneID).first(),
                      try zone.decode(column: "facility_id", as: String.self) == request.facilityID else {
                    throw ParkingError.invalid([.init(field: "zone_id", message: "names no zone of this car park")])
                }
                guard try zone.decode(column: "kind", as: String.self) == "staff" else {
                    throw ParkingError.invalid([.init(field: "zone_id", message: "permits are for staff zones")])
                }
            }
            try await database.insert(into: permits)
                .columns("id", "vehicle_id", "facility_id", "zone_id", "days", "from_time", "until_time", "valid_from", "valid_until", "status", "created_at")
                .values(SQLBind(permit.id), SQLBind(permit.vehicleID), SQLBind(permit.facilityID), SQLBind(permit.zoneID), SQLBind(days.joined(separator: ",")),
                        SQLBind(permit.fromTime), SQLBind(permit.untilTime), SQLBind(permit.validFrom), SQLBind(permit.validUntil), SQLBind("active"),
                        SQLBind(permit.createdAt))
                .run()
            try await audit.append(actor.record("create", resourceType: "parking_permit", resourceID: permit.id, details: ["plate": permit.plate]),
                                   in: database, scope: scope)
            return permit
        }
        return permit
    }

    package func permits(facilityID: String?, in scope: TenantScope) async throws -> [Permit] {
        let permits = try scope.table("parking_permits"), vehicles = try scope.table("parking_vehicles")
        var filter = SQLQueryString("")
        if let facilityID { filter = filter + " WHERE p.facility_id = \(bind: facilityID)" }
        let condition = filter
        return try await scope.read { database in
            try await database.raw("""
                SELECT p.*, v.plate FROM \(permits) p JOIN \(vehicles) v ON v.id = p.vehicle_id\(condition) ORDER BY p.created_at LIMIT 2000
                """).all().map(Permit.from)
        }
    }

    package func revokePermit(_ id: String, in scope: TenantScope, by actor: AuditActor) async throws -> Permit {
        let permits = try scope.table("parking_permits"), vehicles = try scope.table("parking_vehicles")
        let audit = self.audit
        return try await scope.transaction { database in
            guard let row = try await database.raw("""
                SELECT p.*, v.plate FROM \(permits) p JOIN \(vehicles) v ON v.id = p.vehicle_id WHERE p.id = \(bind: id)
                """).first() else { throw ParkingError.notFound("permit") }
            var permit = try Permit.from(row)
            permit.status = "revoked"
            try await database.update(permits).set("status", to: "revoked").where("id", .equal, id).run()
            try await audit.append(actor.record("revoke", resourceType: "parking_permit", resourceID: id), in: database, scope: scope)
            return permit
        }
    }

    /// Checks in a vehicle that has no reservation on a permit valid now: it takes a free spot
    /// of the permit's zone (or of the car park's staff zones) until the permit's hours end.
    func enterOnPermit(plate: String, facilityID: String, at now: Date, in scope: TenantScope, by actor: AuditActor) async throws -> Booking? {
        let vehicles = try scope.table("parking_vehicles"), permits = try scope.table("parking_permits"), facilities = try scope.table("parking_facilities")
        let zones = try scope.table("parking_zones")
        let keys = try await plates.keys(for: scope)
        let found = try await scope.read { database -> (Vehicle, [Permit], String, [String])? in
            guard let vehicle = try await database.select().columns(Vehicle.columns).from(vehicles).where("plate", .in, keys.matching(plate)).first().map(keys.vehicle),
                  let zone = try await database.select().column("time_zone").from(facilities).where("id", .equal, facilityID).first() else { return nil }
            let held = try await database.raw("""
                SELECT p.*, \(bind: vehicle.plate) AS plate FROM \(permits) p
                WHERE p.vehicle_id = \(bind: vehicle.id) AND p.status = 'active' AND p.facility_id = \(bind: facilityID)
                """).all().map(Permit.from)
            let staffZones = try await database.select().column("id").from(zones).where("facility_id", .equal, facilityID).where("kind", .equal, "staff")
                .orderBy("name").all().map { try $0.decode(column: "id", as: String.self) }
            return (vehicle, held, try zone.decode(column: "time_zone", as: String.self), staffZones)
        }
        guard let (vehicle, held, zoneName, staffZones) = found, let timeZone = TimeZone(identifier: zoneName) else { return nil }
        guard let (permit, window) = held.lazy.compactMap({ permit in permit.window(around: now, in: timeZone).map { (permit, $0) } }).first else { return nil }
        let span = (start: Int64(now.timeIntervalSince1970.rounded(.down)), end: Int64(window.end.timeIntervalSince1970.rounded(.up)))
        let audit = self.audit
        for _ in 0..<8 {
            do {
                return try await scope.transaction { database in
                    var spotID: String?
                    for zone in permit.zoneID.map({ [$0] }) ?? staffZones where spotID == nil {
                        spotID = try await Self.free(facilityID: facilityID, zoneID: zone, kind: nil, window: span, limit: 1, in: database, scope: scope).first?.id
                    }
                    guard let spotID else { throw ParkingError.zoneFull }
                    if try await Self.overlaps("vehicle_id", vehicle.id, span, in: database, scope: scope) {
                        throw ParkingError.conflict("The vehicle \(vehicle.plate) is booked elsewhere for part of that time.")
                    }
                    return try await Self.insert(Stay(id: UUIDv7.id(), spotID: spotID, vehicle: vehicle, window: span, status: "checked_in",
                                                      checkedInAt: Timestamp.text(now), permitID: permit.id),
                                                 createdAt: Timestamp.now(), in: database, scope: scope, plates: keys, audit: audit, by: actor)
                }
            } catch let error where isConstraintConflict(error) {
                continue  // a concurrent booking took the spot: look again
            }
        }
        throw ParkingError.zoneFull
    }
}
