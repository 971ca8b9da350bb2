import Foundation
package import OpenAPIKit
import SQLKit
package import WardCore
package import WardHTTP

/// A car park of the campus: a building or a lot, in its own time zone.
package struct Facility: Codable, Sendable, Equatable, APIResponseBody {
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["created_at": .dateTime] }
    package var id: String
    package var name: String
    package var address: String?
    package var timeZone: String
    package var openingHours: String?
    package var createdAt: String
    enum CodingKeys: String, CodingKey { case id, name, address, timeZone = "time_zone", openingHours = "opening_hours", createdAt = "created_at" }
    static let columns = ["id", "name", "address", "time_zone", "opening_hours", "created_at"]
}

/// A part of a facility kept for one kind of user, with its rates.
package struct Zone: Codable, Sendable, Equatable, APIResponseBody {
    package static let kinds = ["staff", "patient", "visitor", "emergency"]
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["kind": .enumeration(kinds), "created_at": .dateTime] }
    package var id: String
    package var facilityID: String
    package var name: String
    package var level: String?
    package var kind: String
    /// Minor units of the clinic's currency per started hour.
    package var hourlyRate: Int64
    /// The most a day (24 h) costs.
    package var dailyCap: Int64
    /// Minutes a patient parks free.
    package var freeMinutes: Int
    package var createdAt: String
    enum CodingKeys: String, CodingKey {
        case id, name, level, kind
        case facilityID = "facility_id", hourlyRate = "hourly_rate", dailyCap = "daily_cap", freeMinutes = "free_minutes", createdAt = "created_at"
    }
    static let columns = ["id", "facility_id", "name", "level", "kind", "hourly_rate", "daily_cap", "free_minutes", "created_at"]
}

/// One parking place.
package struct Spot: Codable, Sendable, Equatable, APIResponseBody {
    package static let kinds = ["standard", "accessible", "ev", "motorcycle"]
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
        ["kind": .enumeration(kinds), "status": .enumeration(["active", "out_of_service"]), "created_at": .dateTime]
    }
    package var id: String
    package var facilityID: String
    package var zoneID: String
    package var code: String
    package var kind: String
    package var chargerKW: Int?
    package var status: String
    package var createdAt: String
    enum CodingKeys: String, CodingKey {
        case id, code, kind, status
        case facilityID = "facility_id", zoneID = "zone_id", chargerKW = "charger_kw", createdAt = "created_at"
    }
    static let columns = ["id", "facility_id", "zone_id", "code", "kind", "charger_kw", "status", "created_at"]
}

/// A vehicle, by its normalised plate, belonging to a member of staff or a patient.
package struct Vehicle: Codable, Sendable, Equatable, APIResponseBody {
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
        ["owner_type": .enumeration(["user", "patient"]), "created_at": .dateTime]
    }
    package var id: String
    package var plate: String
    package var country: String
    package var ownerType: String
    package var ownerID: String
    package var make: String?
    package var colour: String?
    package var createdAt: String
    enum CodingKeys: String, CodingKey {
        case id, plate, country, make, colour
        case ownerType = "owner_type", ownerID = "owner_id", createdAt = "created_at"
    }
    /// The columns a vehicle is read from (`PlateKeys.vehicle`), its sealed plate included.
    static let columns = ["id", "plate", "plate_sealed", "country", "owner_type", "owner_id", "make", "colour", "created_at"]

    /// What its audit events say of it: a staff vehicle's plate; a patient's, nothing (the
    /// event names the vehicle and the patient).
    var auditDetails: [String: String] { ownerType == "patient" ? [:] : ["plate": plate] }
}

/// A spot held for a vehicle over a time window: reserved → checked_in → completed, or
/// cancelled, or no_show once its grace period passed without a check-in.
package struct Booking: Codable, Sendable, Equatable, APIResponseBody {
    package static let statuses = ["reserved", "checked_in", "completed", "cancelled", "no_show"]
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
        ["status": .enumeration(statuses), "starts_at": .dateTime, "ends_at": .dateTime, "checked_in_at": .dateTime, "checked_out_at": .dateTime,
         "created_at": .dateTime]
    }
    package var id: String
    package var spotID: String
    package var spotCode: String?
    package var zoneID: String
    package var facilityID: String
    package var vehicleID: String
    package var plate: String
    package var patientID: String?
    package var startsAt: String
    package var endsAt: String
    package var status: String
    package var checkedInAt: String?
    package var checkedOutAt: String?
    package var amount: Int64?
    package var invoiceID: String?
    /// The staff permit a stay was entered on (no reservation), when it was.
    package var permitID: String?
    package var createdAt: String
    enum CodingKeys: String, CodingKey {
        case id, plate, status, amount
        case spotID = "spot_id", spotCode = "spot_code", zoneID = "zone_id", facilityID = "facility_id", vehicleID = "vehicle_id",
             patientID = "patient_id", startsAt = "starts_at", endsAt = "ends_at", checkedInAt = "checked_in_at", checkedOutAt = "checked_out_at",
             invoiceID = "invoice_id", permitID = "permit_id", createdAt = "created_at"
    }

    /// A booking row (with its spot's `code`), its plate opened with `plates`.
    static func from(_ row: any SQLRow, plates: PlateKeys) throws -> Booking {
        let vehicleID = try row.decode(column: "vehicle_id", as: String.self)
        return Booking(
            id: try row.decode(column: "id", as: String.self), spotID: try row.decode(column: "spot_id", as: String.self),
            spotCode: try? row.decode(column: "code", as: String?.self), zoneID: try row.decode(column: "zone_id", as: String.self),
            facilityID: try row.decode(column: "facility_id", as: String.self), vehicleID: vehicleID,
            plate: try plates.open(try row.decode(column: "plate", as: String.self), sealed: try row.decode(column: "plate_sealed", as: String?.self),
                                   vehicleID: vehicleID),
            patientID: try row.decode(column: "patient_id", as: String?.self),
            startsAt: try row.decode(column: "starts_at", as: String.self), endsAt: try row.decode(column: "ends_at", as: String.self),
            status: try row.decode(column: "status", as: String.self), checkedInAt: try row.decode(column: "checked_in_at", as: String?.self),
            checkedOutAt: try row.decode(column: "checked_out_at", as: String?.self), amount: try row.decode(column: "amount", as: Int64?.self),
            invoiceID: try row.decode(column: "invoice_id", as: String?.self), permitID: try row.decode(column: "permit_id", as: String?.self),
            createdAt: try row.decode(column: "created_at", as: String.self)
        )
    }
}

/// What a parking request can fail with, as the problem it answers.
package enum ParkingError: Error, ProblemConvertible {
    case notFound(String)
    case invalid([Problem.FieldError])
    case conflict(String)
    case spotTaken
    case zoneFull

    package var problem: Problem {
        switch self {
        case .notFound(let what): Problem(status: 404, title: "Not found", detail: "No such \(what) in this clinic.")
        case .invalid(let errors): Problem(status: 422, title: "Invalid parking request", detail: "Some fields are invalid.", errors: errors)
        case .conflict(let detail): Problem(status: 409, title: "Conflict", detail: detail)
        case .spotTaken: Problem(status: 409, title: "Spot taken", detail: "The spot is booked for part of that time; choose another spot or time.")
        case .zoneFull: Problem(status: 409, title: "No spot free", detail: "No spot of that kind in the zone is free for the whole of that time.")
        }
    }
}

/// Number plates as Ward stores and matches them: letters upper-cased, spaces, dashes and dots
/// dropped ("ab-12 cd" and "AB12CD" are one plate), letters and digits only, 2 to 10 of them
/// (in at most 20 characters as typed), with the issuing country (ISO 3166 alpha-2) beside it.
package enum Plate {
    package static func normalised(_ text: String) -> String? {
        guard text.count <= 20 else { return nil }
        let kept = text.uppercased().filter { !" -.·".contains($0) }
        guard (2...10).contains(kept.count), kept.allSatisfy({ ($0.isLetter || $0.isNumber) && $0.isASCII }) else { return nil }
        return kept
    }
}
