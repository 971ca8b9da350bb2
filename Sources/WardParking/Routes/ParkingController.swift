import Foundation
package import Hummingbird
package import OpenAPIKit
import WardAudit
import WardCore
package import WardHTTP

/// `/api/v1/parking/…`: the estate (facilities, zones, spots), vehicles, availability,
/// bookings, and the gate (check-in and check-out by plate).
package struct ParkingController: Sendable {
    let parking: ParkingService

    package static let operations: [APIOperation] = [
        APIOperation("listFacilities", .get, "/api/v1/parking/facilities", summary: "The campus's car parks", tag: "parking", access: .staff,
                     permission: "parking:read", success: (200, "application/json", ItemList<Facility>.self), problems: [401, 403]),
        APIOperation("addFacility", .post, "/api/v1/parking/facilities", summary: "Add a car park", tag: "parking", access: .staff, permission: "parking:write",
                     success: (201, "application/json", Facility.self), problems: [400, 401, 403, 422], request: NewFacility.self),
        APIOperation("listZones", .get, "/api/v1/parking/facilities/{id}/zones", summary: "A car park's zones with their rates", tag: "parking", access: .staff,
                     permission: "parking:read", success: (200, "application/json", ItemList<Zone>.self), problems: [400, 401, 403]),
        APIOperation("addZone", .post, "/api/v1/parking/facilities/{id}/zones", summary: "Add a zone (staff, patient, visitor, emergency) with its rates",
                     tag: "parking", access: .staff, permission: "parking:write", success: (201, "application/json", Zone.self),
                     problems: [400, 401, 403, 404, 422], request: NewZone.self),
        APIOperation("occupancy", .get, "/api/v1/parking/facilities/{id}/occupancy", summary: "Each zone's spots now: in service, occupied, reserved, overstaying",
                     tag: "parking", access: .staff, permission: "parking:read", success: (200, "application/json", Occupancy.self), problems: [400, 401, 403, 404]),
        APIOperation("listSpots", .get, "/api/v1/parking/zones/{id}/spots", summary: "A zone's spots", tag: "parking", access: .staff,
                     permission: "parking:read", success: (200, "application/json", ItemList<Spot>.self), problems: [400, 401, 403]),
        APIOperation("addSpots", .post, "/api/v1/parking/zones/{id}/spots", summary: "Add spots to a zone (codes unique in the car park)", tag: "parking",
                     access: .staff, permission: "parking:write", success: (201, "application/json", ItemList<Spot>.self),
                     problems: [400, 401, 403, 404, 409, 422], request: NewSpots.self),
        APIOperation("setSpotStatus", .post, "/api/v1/parking/spots/{id}/status", summary: "Take a spot out of service, or back into it", tag: "parking",
                     access: .staff, permission: "parking:write", success: (200, "application/json", Spot.self), problems: [400, 401, 403, 404, 422],
                     request: SpotStatus.self),
        APIOperation("addVehicle", .post, "/api/v1/parking/vehicles", summary: "Register a vehicle of a member of staff or a patient (plates are normalised)",
                     tag: "parking", access: .staff, permission: "parking:book", success: (201, "application/json", Vehicle.self),
                     problems: [400, 401, 403, 409, 422], request: NewVehicle.self),
        APIOperation("findVehicle", .get, "/api/v1/parking/vehicles", summary: "The vehicle with a plate (as typed: spaces, dashes and case do not matter)",
                     tag: "parking", access: .staff, permission: "parking:read", success: (200, "application/json", Vehicle.self), problems: [400, 401, 403, 404, 422])
            .query(QueryParameter("plate", .text(maxLength: 20), "The plate", required: true)),
        APIOperation("parkingAvailability", .get, "/api/v1/parking/availability", summary: "Spots free for the whole of a time window, by zone and kind",
                     tag: "parking", access: .staff, permission: "parking:read", success: (200, "application/json", ItemList<FreeSpot>.self),
                     problems: [400, 401, 403, 422])
            .query(QueryParameter("facility_id", .uuid, "The car park", required: true), QueryParameter("zone_id", .uuid, "Only this zone"),
                   QueryParameter("kind", .choice(Spot.kinds), "Only spots of this kind"),
                   QueryParameter("starts_at", .dateTime, "Start of the window", required: true), QueryParameter("ends_at", .dateTime, "End of the window", required: true),
                   .limit(default: 50, maximum: 500)),
        APIOperation("bookParking", .post, "/api/v1/parking/bookings",
                     summary: "Book a spot, or any spot of a kind in a zone, for a vehicle (409 when taken: a spot holds one booking at any instant)",
                     tag: "parking", access: .staff, permission: "parking:book", success: (201, "application/json", Booking.self),
                     problems: [400, 401, 403, 404, 409, 422], request: NewBooking.self)
            .limited(as: "booking"),
        APIOperation("listBookings", .get, "/api/v1/parking/bookings", summary: "Bookings, soonest first, by car park and status", tag: "parking",
                     access: .staff, permission: "parking:read", success: (200, "application/json", ItemList<Booking>.self), problems: [400, 401, 403])
            .query(QueryParameter("facility_id", .uuid, "Only this car park"), QueryParameter("status", .choice(Booking.statuses), "Only in this status"),
                   .limit(default: 50, maximum: 500)),
        APIOperation("cancelBooking", .post, "/api/v1/parking/bookings/{id}/cancel", summary: "Cancel a reservation", tag: "parking", access: .staff,
                     permission: "parking:book", success: (200, "application/json", Booking.self), problems: [400, 401, 403, 404, 409])
            .limited(as: "booking"),
        APIOperation("issuePermit", .post, "/api/v1/parking/permits",
                     summary: "Issue a staff vehicle a permit: days and hours (local to the car park; overnight when the end is not after the start), validity, zone",
                     tag: "parking", access: .staff, permission: "parking:write", success: (201, "application/json", Permit.self),
                     problems: [400, 401, 403, 404, 422], request: NewPermit.self),
        APIOperation("listPermits", .get, "/api/v1/parking/permits", summary: "Permits, by car park", tag: "parking", access: .staff,
                     permission: "parking:read", success: (200, "application/json", ItemList<Permit>.self), problems: [400, 401, 403])
            .query(QueryParameter("facility_id", .uuid, "Only this car park")),
        APIOperation("revokePermit", .post, "/api/v1/parking/permits/{id}/revoke", summary: "Revoke a permit (stays already entered on it continue)",
                     tag: "parking", access: .staff, permission: "parking:write", success: (200, "application/json", Permit.self), problems: [400, 401, 403, 404]),
        APIOperation("parkingDailyReport", .get, "/api/v1/parking/facilities/{id}/report",
                     summary: "A car park's local day by zone: bookings, no-shows, check-ins, occupied hours and occupancy, peak, revenue",
                     tag: "parking", access: .staff, permission: "parking:read", success: (200, "application/json", OccupancyReport.self),
                     problems: [400, 401, 403, 404, 422])
            .query(QueryParameter("date", .date, "The car park's local day, yyyy-MM-dd; today (so far) when absent")),
        APIOperation("checkIn", .post, "/api/v1/parking/check-in",
                     summary: "Check a vehicle in by its plate (its reservation starting within 30 minutes, or a staff permit valid now)",
                     tag: "parking", access: .staff, permission: "parking:write", success: (200, "application/json", Booking.self),
                     problems: [400, 401, 403, 404, 409, 422], request: GateEvent.self),
        APIOperation("checkOut", .post, "/api/v1/parking/check-out",
                     summary: "Check a vehicle out by its plate: the stay is priced, and a patient's added to a draft invoice", tag: "parking", access: .staff,
                     permission: "parking:write", success: (200, "application/json", Booking.self), problems: [400, 401, 403, 404, 409, 422], request: GateEvent.self),
    ]

    struct NewFacility: APIRequestBody {
        let name: String
        let address: String?
        let timeZone: String
        let openingHours: String?
        enum CodingKeys: String, CodingKey { case name, address, timeZone = "time_zone", openingHours = "opening_hours" }
        static var schemaName: String { "NewParkingFacility" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["name": ParkingService.name.schema, "address": ParkingService.text.schema, "time_zone": .string(maxLength: 64, pattern: #"^[A-Za-z0-9_+/-]{1,64}$"#),
             "opening_hours": ParkingService.text.schema]
        }
    }
    struct NewZone: APIRequestBody {
        let name: String
        let level: String?
        let kind: String
        let hourlyRate: Int64
        let dailyCap: Int64
        let freeMinutes: Int?
        enum CodingKeys: String, CodingKey { case name, level, kind, hourlyRate = "hourly_rate", dailyCap = "daily_cap", freeMinutes = "free_minutes" }
        static var schemaName: String { "NewParkingZone" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["name": ParkingService.name.schema, "level": ParkingService.name.schema, "kind": .enumeration(Zone.kinds),
             "hourly_rate": .integer(maximum: (100_000_000, exclusive: false), minimum: (0, exclusive: false)),
             "daily_cap": .integer(maximum: (1_000_000_000, exclusive: false), minimum: (0, exclusive: false)),
             "free_minutes": .integer(maximum: (1_440, exclusive: false), minimum: (0, exclusive: false))]
        }
    }
    struct NewSpots: APIRequestBody {
        let codes: [String]
        let kind: String
        let chargerKW: Int?
        enum CodingKeys: String, CodingKey { case codes, kind, chargerKW = "charger_kw" }
        static var schemaName: String { "NewParkingSpots" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["codes": .array(minItems: 1, maxItems: 500, items: .string(pattern: ParkingService.codePattern)), "kind": .enumeration(Spot.kinds),
             "charger_kw": .integer(maximum: (1_000, exclusive: false), minimum: (1, exclusive: false))]
        }
    }
    struct SpotStatus: APIRequestBody {
        let status: String
        static var schemaName: String { "ParkingSpotStatus" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["status": .enumeration(["active", "out_of_service"])] }
    }
    struct NewVehicle: APIRequestBody {
        let plate: String
        let country: String
        let ownerType: String
        let ownerID: String
        let make: String?
        let colour: String?
        enum CodingKeys: String, CodingKey { case plate, country, make, colour, ownerType = "owner_type", ownerID = "owner_id" }
        static var schemaName: String { "NewVehicle" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["plate": .string(pattern: #"^[A-Za-z0-9 .·-]{2,20}$"#), "country": .string(pattern: "^[A-Z]{2}$"), "owner_type": .enumeration(["user", "patient"]),
             "owner_id": .id, "make": ParkingService.name.schema, "colour": ParkingService.name.schema]
        }
    }
    /// `spot_id`, or `zone_id` (and `kind`) for any spot of the zone.
    struct NewBooking: APIRequestBody {
        let vehicleID: String
        let spotID: String?
        let zoneID: String?
        let kind: String?
        let startsAt: String
        let endsAt: String
        enum CodingKeys: String, CodingKey {
            case kind
            case vehicleID = "vehicle_id", spotID = "spot_id", zoneID = "zone_id", startsAt = "starts_at", endsAt = "ends_at"
        }
        static var schemaName: String { "NewParkingBooking" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["vehicle_id": .id, "spot_id": .id, "zone_id": .id, "kind": .enumeration(Spot.kinds), "starts_at": .dateTime, "ends_at": .dateTime]
        }
    }
    struct NewPermit: APIRequestBody {
        let vehicleID: String
        let facilityID: String
        let zoneID: String?
        let days: [String]
        let fromTime: String
        let untilTime: String
        let validFrom: String
        let validUntil: String
        enum CodingKeys: String, CodingKey {
            case days
            case vehicleID = "vehicle_id", facilityID = "facility_id", zoneID = "zone_id", fromTime = "from_time", untilTime = "until_time",
                 validFrom = "valid_from", validUntil = "valid_until"
        }
        static var schemaName: String { "NewParkingPermit" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["vehicle_id": .id, "facility_id": .id, "zone_id": .id, "days": .array(minItems: 1, maxItems: 7, items: .enumeration(Permit.weekdays)),
             "from_time": .string(pattern: "^([01][0-9]|2[0-3]):[0-5][0-9]$"), "until_time": .string(pattern: "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"),
             "valid_from": .string(format: .date, pattern: #"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"#),
             "valid_until": .string(format: .date, pattern: #"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"#)]
        }
    }
    struct GateEvent: APIRequestBody {
        let facilityID: String
        let plate: String
        enum CodingKeys: String, CodingKey { case plate, facilityID = "facility_id" }
        static var schemaName: String { "ParkingGateEvent" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["facility_id": .id, "plate": .string(pattern: #"^[A-Za-z0-9 .·-]{2,20}$"#)]
        }
    }

    package func routes(_ routes: inout ModuleRoutes) {
        let parking = self.parking
        routes.on("listFacilities") { _, context -> Response in try JSONResponse.make(ItemList(try await parking.facilities(in: try context.requireTenant()))) }
        routes.on("addFacility") { request, context -> Response in
            let body = try await request.decode(as: NewFacility.self, context: context)
            return try JSONResponse.make(try await parking.addFacility(name: body.name, address: body.address, timeZone: body.timeZone, openingHours: body.openingHours,
                                                                       in: try context.requireTenant(), by: AuditActor(request, context)), status: .created)
        }
        routes.on("listZones") { _, context -> Response in
            try JSONResponse.make(ItemList(try await parking.zones(of: try context.parameters.require("id"), in: try context.requireTenant())))
        }
        routes.on("addZone") { request, context -> Response in
            let body = try await request.decode(as: NewZone.self, context: context)
            return try JSONResponse.make(try await parking.addZone(facilityID: try context.parameters.require("id"), name: body.name, level: body.level, kind: body.kind,
                                                                   hourlyRate: body.hourlyRate, dailyCap: body.dailyCap, freeMinutes: body.freeMinutes ?? 0,
                                                                   in: try context.requireTenant(), by: AuditActor(request, context)), status: .created)
        }
        routes.on("occupancy") { _, context -> Response in
            try JSONResponse.make(try await parking.occupancy(facilityID: try context.parameters.require("id"), in: try context.requireTenant()))
        }
        routes.on("listSpots") { _, context -> Response in
            try JSONResponse.make(ItemList(try await parking.spots(of: try context.parameters.require("id"), in: try context.requireTenant())))
        }
        routes.on("addSpots") { request, context -> Response in
            let body = try await request.decode(as: NewSpots.self, context: context)
            return try JSONResponse.make(ItemList(try await parking.addSpots(zoneID: try context.parameters.require("id"), codes: body.codes, kind: body.kind,
                                                                             chargerKW: body.chargerKW, in: try context.requireTenant(), by: AuditActor(request, context))),
                                         status: .created)
        }
        routes.on("setSpotStatus") { request, context -> Response in
            let body = try await request.decode(as: SpotStatus.self, context: context)
            return try JSONResponse.make(try await parking.setSpotStatus(try context.parameters.require("id"), to: body.status, in: try context.requireTenant(),
                                                                         by: AuditActor(request, context)))
        }
        routes.on("addVehicle") { request, context -> Response in
            let body = try await request.decode(as: NewVehicle.self, context: context)
            return try JSONResponse.make(try await parking.addVehicle(plate: body.plate, country: body.country, ownerType: body.ownerType, ownerID: body.ownerID,
                                                                      make: body.make, colour: body.colour, in: try context.requireTenant(),
                                                                      by: AuditActor(request, context)), status: .created)
        }
        routes.on("findVehicle") { request, context -> Response in
            guard let plate = request.uri.queryParameters.get("plate") else { throw InvalidQuery(field: "plate", message: "is required") }
            return try JSONResponse.make(try await parking.vehicle(plate: plate, in: try context.requireTenant(), by: AuditActor(request, context)))
        }
        routes.on("parkingAvailability") { request, context -> Response in
            let query = request.uri.queryParameters
            guard let facility = query.get("facility_id") else { throw InvalidQuery(field: "facility_id", message: "is required") }
            guard let start = query.get("starts_at"), let end = query.get("ends_at") else { throw InvalidQuery(field: "starts_at", message: "starts_at and ends_at are required") }
            let free = try await parking.available(facilityID: facility, zoneID: query.get("zone_id"), kind: query.get("kind"), startsAt: start, endsAt: end,
                                                   limit: try request.pageLimit(default: 50, maximum: 500), in: try context.requireTenant())
            return try JSONResponse.make(ItemList(free))
        }
        routes.on("bookParking") { request, context -> Response in
            let body = try await request.decode(as: NewBooking.self, context: context)
            let booking = try await parking.book(.init(vehicleID: body.vehicleID, spotID: body.spotID, zoneID: body.zoneID, kind: body.kind, startsAt: body.startsAt,
                                                       endsAt: body.endsAt), in: try context.requireTenant(), by: AuditActor(request, context))
            return try JSONResponse.make(booking, status: .created)
        }
        routes.on("listBookings") { request, context -> Response in
            let found = try await parking.bookings(facilityID: request.uri.queryParameters.get("facility_id"), status: request.uri.queryParameters.get("status"),
                                                   limit: try request.pageLimit(default: 50, maximum: 500), in: try context.requireTenant(), by: AuditActor(request, context))
            return try JSONResponse.make(ItemList(found))
        }
        routes.on("cancelBooking") { request, context -> Response in
            try JSONResponse.make(try await parking.cancel(try context.parameters.require("id"), in: try context.requireTenant(), by: AuditActor(request, context)))
        }
        routes.on("issuePermit") { request, context -> Response in
            let body = try await request.decode(as: NewPermit.self, context: context)
            let permit = try await parking.issuePermit(.init(vehicleID: body.vehicleID, facilityID: body.facilityID, zoneID: body.zoneID, days: body.days,
                                                             fromTime: body.fromTime, untilTime: body.untilTime, validFrom: body.validFrom, validUntil: body.validUntil),
                                                       in: try context.requireTenant(), by: AuditActor(request, context))
            return try JSONResponse.make(permit, status: .created)
        }
        routes.on("listPermits") { request, context -> Response in
            try JSONResponse.make(ItemList(try await parking.permits(facilityID: request.uri.queryParameters.get("facility_id"), in: try context.requireTenant())))
        }
        routes.on("revokePermit") { request, context -> Response in
            try JSONResponse.make(try await parking.revokePermit(try context.parameters.require("id"), in: try context.requireTenant(), by: AuditActor(request, context)))
        }
        routes.on("parkingDailyReport") { request, context -> Response in
            try JSONResponse.make(try await parking.dailyReport(facilityID: try context.parameters.require("id"), date: request.uri.queryParameters.get("date"),
                                                                in: try context.requireTenant()))
        }
        routes.on("checkIn") { request, context -> Response in
            let body = try await request.decode(as: GateEvent.self, context: context)
            return try JSONResponse.make(try await parking.checkIn(plate: body.plate, facilityID: body.facilityID, in: try context.requireTenant(), by: AuditActor(request, context)))
        }
        routes.on("checkOut") { request, context -> Response in
            let body = try await request.decode(as: GateEvent.self, context: context)
            return try JSONResponse.make(try await parking.checkOut(plate: body.plate, facilityID: body.facilityID, in: try context.requireTenant(), by: AuditActor(request, context)))
        }
    }
}
