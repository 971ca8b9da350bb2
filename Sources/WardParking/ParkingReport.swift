package import Foundation
package import OpenAPIKit
import SQLKit
import WardCore
package import WardHTTP
package import WardStorage

/// One zone's local day: what was booked for it, who came, how full it was, what it earned.
package struct ZoneDay: Codable, Sendable, Equatable, APIResponseBody {
    package var zoneID: String
    package var name: String
    package var kind: String
    /// Spots in service now.
    package var spots: Int
    /// Bookings starting that day, of any outcome, and how many of them were cancelled or
    /// missed.
    package var bookings: Int
    package var cancelled: Int
    package var noShows: Int
    /// Vehicles checked in that day (reservations and permits).
    package var checkIns: Int
    /// Hours vehicles stood in the zone that day, against the hours its spots were open.
    package var occupiedHours: Double
    package var spotHours: Double
    package var occupancyPercent: Double
    /// The most vehicles in the zone at once.
    package var peak: Int
    /// Minor units charged for stays checked out that day.
    package var revenue: Int64
    enum CodingKeys: String, CodingKey {
        case name, kind, spots, bookings, cancelled, peak, revenue
        case zoneID = "zone_id", noShows = "no_shows", checkIns = "check_ins", occupiedHours = "occupied_hours", spotHours = "spot_hours",
             occupancyPercent = "occupancy_percent"
    }
}

/// A car park's local day, zone by zone: 23 or 25 hours long when the clocks change.
package struct OccupancyReport: Codable, Sendable, Equatable, APIResponseBody {
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["date": .date, "starts_at": .dateTime, "ends_at": .dateTime] }
    package var facilityID: String
    package var date: String
    package var timeZone: String
    package var startsAt: String
    package var endsAt: String
    package var hours: Double
    package var zones: [ZoneDay]
    enum CodingKeys: String, CodingKey {
        case date, hours, zones
        case facilityID = "facility_id", timeZone = "time_zone", startsAt = "starts_at", endsAt = "ends_at"
    }
}

extension ParkingService {
    /// The daily occupancy report of a car park for its local day `date` (today so far when
    /// nil). Stays are the check-in to check-out intervals (to `now` while parked), clipped
    /// to the day; bookings are read from the car park's (facility, status, start) index over
    /// the day and the 31 days before it, the longest a booking lasts.
    package func dailyReport(facilityID: String, date: String?, now: Date = Date(), in scope: TenantScope) async throws -> OccupancyReport {
        guard ParameterFormat.uuid.problem(with: facilityID) == nil else { throw ParkingError.notFound("facility") }
        let facilities = try scope.table("parking_facilities"), bookings = try scope.table("parking_bookings")
        guard let facility = try await scope.read({
            try await $0.select().columns(Facility.columns).from(facilities).where("id", .equal, facilityID).first(decoding: Facility.self)
        }), let timeZone = TimeZone(identifier: facility.timeZone) else { throw ParkingError.notFound("facility") }
        let calendar = LocalTime.calendar(timeZone)
        let wanted = date ?? LocalTime.dayText(calendar.startOfDay(for: now), calendar)
        guard let day = LocalTime.day(wanted, in: timeZone) else { throw ParkingError.invalid([.init(field: "date", message: "must be a date YYYY-MM-DD")]) }
        let dayStart = day.start.timeIntervalSince1970, dayEnd = day.end.timeIntervalSince1970
        let zones = try await zones(of: facilityID, in: scope)
        let spots = try scope.table("parking_spots")
        let (inService, rows) = try await scope.read { database -> ([String: Int], [any SQLRow]) in
            var inService: [String: Int] = [:]
            for row in try await database.raw("""
                SELECT zone_id, COUNT(*) AS spots FROM \(spots) WHERE facility_id = \(bind: facilityID) AND status = 'active' GROUP BY zone_id
                """).all() {
                inService[try row.decode(column: "zone_id", as: String.self)] = try row.decode(column: "spots", as: Int.self)
            }
            let rows = try await database.raw("""
                SELECT zone_id, status, starts_epoch, checked_in_at, checked_out_at, amount FROM \(bookings)
                WHERE facility_id = \(bind: facilityID) AND status IN ('reserved', 'checked_in', 'completed', 'cancelled', 'no_show')
                  AND starts_epoch >= \(bind: Int64(dayStart) - Int64(Self.longest)) AND starts_epoch < \(bind: Int64(dayEnd) + 1_800)
                """).all()
            return (inService, rows)
        }
        var days = Dictionary(uniqueKeysWithValues: zones.map { zone in
            (zone.id, ZoneDay(zoneID: zone.id, name: zone.name, kind: zone.kind, spots: inService[zone.id] ?? 0, bookings: 0, cancelled: 0, noShows: 0,
                              checkIns: 0, occupiedHours: 0, spotHours: 0, occupancyPercent: 0, peak: 0, revenue: 0))
        })
        var edges: [String: [(Double, Int)]] = [:]
        var occupied: [String: Double] = [:]
        let inDay = { (time: Double) in time >= dayStart && time < dayEnd }
        for row in rows {
            let zone = try row.decode(column: "zone_id", as: String.self), status = try row.decode(column: "status", as: String.self)
            guard days[zone] != nil else { continue }
            if inDay(Double(try row.decode(column: "starts_epoch", as: Int64.self))) {
                days[zone]!.bookings += 1
                if status == "cancelled" { days[zone]!.cancelled += 1 }
                if status == "no_show" { days[zone]!.noShows += 1 }
            }
            guard let checkedIn = try row.decode(column: "checked_in_at", as: String?.self).flatMap(Timestamp.date)?.timeIntervalSince1970 else { continue }
            let checkedOut = try row.decode(column: "checked_out_at", as: String?.self).flatMap(Timestamp.date)?.timeIntervalSince1970
            if inDay(checkedIn) { days[zone]!.checkIns += 1 }
            if let checkedOut, inDay(checkedOut) { days[zone]!.revenue += try row.decode(column: "amount", as: Int64?.self) ?? 0 }
            let from = max(checkedIn, dayStart), to = min(checkedOut ?? now.timeIntervalSince1970, dayEnd)
            guard to > from else { continue }
            occupied[zone, default: 0] += to - from
            edges[zone, default: []] += [(from, 1), (to, -1)]
        }
        let hours = (dayEnd - dayStart) / 3_600
        for zone in zones {
            var day = days[zone.id]!
            day.occupiedHours = ((occupied[zone.id] ?? 0) / 360).rounded() / 10
            day.spotHours = Double(day.spots) * hours
            day.occupancyPercent = day.spotHours > 0 ? ((occupied[zone.id] ?? 0) / 3_600 / day.spotHours * 1_000).rounded() / 10 : 0
            // Departures before arrivals at the same instant: a spot handed over is not two cars.
            var level = 0
            for (_, change) in (edges[zone.id] ?? []).sorted(by: { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }) {
                level += change
                day.peak = max(day.peak, level)
            }
            days[zone.id] = day
        }
        return OccupancyReport(facilityID: facilityID, date: wanted, timeZone: facility.timeZone, startsAt: Timestamp.text(day.start),
                               endsAt: Timestamp.text(day.end), hours: hours, zones: zones.map { days[$0.id]! })
    }
}
