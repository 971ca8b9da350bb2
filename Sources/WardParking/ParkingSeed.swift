package import Foundation
import SQLKit
package import WardAudit
package import WardCore
package import WardStorage

/// The parking benchmark's data set: one car park of `spots` spots in zones of 500, `vehicles`
/// staff vehicles, and `past` completed stays spread over the spots' last months, written in
/// batches (the stays straight into the table: they are history, not bookings anyone makes).
package enum ParkingSeed {
    package struct Estate: Sendable {
        package var facilityID: String
        package var zoneIDs: [String]
        package var vehicleIDs: [String]
    }

    package static func bench(spots: Int, vehicles: Int, past: Int, owner: String, service: ParkingService, in scope: TenantScope,
                              by actor: AuditActor) async throws -> Estate {
        let facility = try await service.addFacility(name: "Bench car park", address: nil, timeZone: "Europe/London", openingHours: "24 hours",
                                                     in: scope, by: actor)
        var zones: [Zone] = []
        var made: [Spot] = []
        let kinds = ["standard", "standard", "standard", "accessible", "ev"]
        for index in 0..<max(1, (spots + 499) / 500) {
            let zone = try await service.addZone(facilityID: facility.id, name: "Zone \(index + 1)", level: String(index), kind: index % 2 == 0 ? "patient" : "visitor",
                                                 hourlyRate: 250, dailyCap: 1_500, freeMinutes: 30, in: scope, by: actor)
            zones.append(zone)
            let count = min(500, spots - index * 500)
            let kind = kinds[index % kinds.count]
            made += try await service.addSpots(zoneID: zone.id, codes: (1...count).map { String(format: "Z%02d-%03d", index + 1, $0) }, kind: kind,
                                               chargerKW: kind == "ev" ? 22 : nil, in: scope, by: actor)
        }
        let vehicleTable = try scope.table("parking_vehicles"), bookings = try scope.table("parking_bookings")
        let spotKeys = try await scope.read { database in
            try await database.raw("SELECT id, spot_key FROM \(try scope.table("parking_spots"))").all().reduce(into: [String: Int]()) {
                $0[try $1.decode(column: "id", as: String.self)] = try $1.decode(column: "spot_key", as: Int.self)
            }
        }
        var fleet: [(id: String, plate: String)] = []
        let now = Timestamp.now()
        for start in stride(from: 0, to: vehicles, by: 1_000) {
            let batch = (start..<min(start + 1_000, vehicles)).map { (id: UUIDv7.id(), plate: String(format: "BENCH%05d", $0)) }
            try await scope.transaction { [batch] database in
                var insert = database.insert(into: vehicleTable).columns("id", "plate", "country", "owner_type", "owner_id", "created_at")
                for vehicle in batch {
                    insert = insert.values(SQLBind(vehicle.id), SQLBind(vehicle.plate), SQLBind("GB"), SQLBind("user"), SQLBind(owner), SQLBind(now))
                }
                try await insert.run()
            }
            fleet += batch
        }
        let spotList = made, vehicleList = fleet
        // Stay n is the spot's (n / spots)-th back in time: 10-hour slots, 2 to 8 hours each,
        // ending at least a day ago.
        let today = Int64(Date().timeIntervalSince1970) / 3_600 * 3_600
        for first in stride(from: 0, to: past, by: 1_000) {
            try await scope.transaction { database in
                var insert = database.insert(into: bookings).columns(
                    "id", "spot_id", "spot_key", "zone_id", "facility_id", "vehicle_id", "plate", "starts_at", "ends_at", "starts_epoch", "ends_epoch",
                    "status", "checked_in_at", "checked_out_at", "amount", "created_by", "created_at")
                for number in first..<min(first + 1_000, past) {
                    let spot = spotList[number % spotList.count], vehicle = vehicleList[number % vehicleList.count]
                    let ends = today - 86_400 - Int64(number / spotList.count) * 36_000
                    let starts = ends - Int64(2 + number % 7) * 3_600
                    let from = Timestamp.text(Date(timeIntervalSince1970: Double(starts))), to = Timestamp.text(Date(timeIntervalSince1970: Double(ends)))
                    insert = insert.values(
                        SQLBind(UUIDv7.id()), SQLBind(spot.id), SQLBind(spotKeys[spot.id] ?? 0), SQLBind(spot.zoneID), SQLBind(facility.id), SQLBind(vehicle.id),
                        SQLBind(vehicle.plate), SQLBind(from), SQLBind(to), SQLBind(starts), SQLBind(ends), SQLBind("completed"), SQLBind(from), SQLBind(to),
                        SQLBind(Int64(250 * (2 + number % 7))), SQLBind(actor.id), SQLBind(now))
                }
                try await insert.run()
            }
        }
        let audit = service.audit
        _ = try await scope.transaction { database in
            try await audit.append(actor.record("import", resourceType: "parking_booking", details: ["count": String(past)]), in: database, scope: scope)
        }
        return Estate(facilityID: facility.id, zoneIDs: zones.map(\.id), vehicleIDs: fleet.map(\.id))
    }
}
