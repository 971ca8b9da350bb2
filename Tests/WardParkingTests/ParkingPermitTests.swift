import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
@testable import WardParking
import WardServer
import WardTestSupport

@Suite("Parking permits, the daily report and the booking limit")
struct ParkingPermitTests {
    static let london = TimeZone(identifier: "Europe/London")!

    static func instant(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test("a permit's hours are the car park's wall-clock hours on both sides of a daylight-saving change; overnight permits run past midnight")
    func permitWindows() throws {
        let permit = Permit(id: "p", vehicleID: "v", plate: "AB1", facilityID: "f", zoneID: nil, days: Permit.weekdays, fromTime: "07:00", untilTime: "19:00",
                            validFrom: "2027-01-01", validUntil: "2027-12-31", status: "active", createdAt: "")
        // 06:45 UTC is 06:45 in London on Saturday 27 March (GMT) and 07:45 on Sunday 28 March (BST).
        #expect(permit.window(around: Self.instant("2027-03-27T06:45:00Z"), in: Self.london) == nil)
        let sunday = try #require(permit.window(around: Self.instant("2027-03-28T06:45:00Z"), in: Self.london))
        #expect(sunday.start == Self.instant("2027-03-28T06:00:00Z"))
        #expect(sunday.end == Self.instant("2027-03-28T18:00:00Z"))
        // The last day of October is back on GMT: 07:00 local is 07:00 UTC.
        #expect(permit.window(around: Self.instant("2027-10-31T06:30:00Z"), in: Self.london) == nil)
        #expect(permit.window(around: Self.instant("2027-10-31T07:00:00Z"), in: Self.london)?.start == Self.instant("2027-10-31T07:00:00Z"))
        // Outside its validity, or revoked: nothing.
        #expect(permit.window(around: Self.instant("2028-01-03T12:00:00Z"), in: Self.london) == nil)
        var revoked = permit
        revoked.status = "revoked"
        #expect(revoked.window(around: Self.instant("2027-06-01T12:00:00Z"), in: Self.london) == nil)

        // A Friday night shift, 22:00 to 06:00: in at 03:00 on Saturday, not on Sunday morning.
        let night = Permit(id: "n", vehicleID: "v", plate: "AB1", facilityID: "f", zoneID: nil, days: ["fri"], fromTime: "22:00", untilTime: "06:00",
                           validFrom: "2027-01-01", validUntil: "2027-12-31", status: "active", createdAt: "")
        let saturday = try #require(night.window(around: Self.instant("2027-06-05T02:00:00Z"), in: Self.london))
        #expect(saturday.start == Self.instant("2027-06-04T21:00:00Z"))
        #expect(saturday.end == Self.instant("2027-06-05T05:00:00Z"))
        #expect(night.window(around: Self.instant("2027-06-06T02:00:00Z"), in: Self.london) == nil)
        // The night the clocks go back is an hour longer: 22:00 BST to 06:00 GMT is 9 hours.
        var saturdayNight = night
        saturdayNight.days = ["sat"]
        let long = try #require(saturdayNight.window(around: Self.instant("2027-10-30T23:00:00Z"), in: Self.london))
        #expect(long.end.timeIntervalSince(long.start) == 9 * 3_600)

        #expect(LocalTime.day("2027-03-28", in: Self.london).map { $0.end.timeIntervalSince($0.start) } == 23.0 * 3_600)
        #expect(LocalTime.day("2027-10-31", in: Self.london).map { $0.end.timeIntervalSince($0.start) } == 25.0 * 3_600)
        #expect(LocalTime.day("2027-02-30", in: Self.london) == nil)
        #expect(LocalTime.minutes("24:00") == 1_440)
        #expect(LocalTime.minutes("24:30") == nil)
    }

    @Test("staff enter on a permit without booking, free of charge; the day's report counts the stay on a 23-hour day",
          arguments: TestBackend.allCases)
    func permitsAtTheGate(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.clinic()
                try await node.clinic("zenith")
                let (parking, scope) = try await node.parking()
                try await node.test { client in
                    let attendant = try await client.token("attendant@acme.test"), desk = try await client.token("desk@acme.test")
                    let facility = try await client.create("/api/v1/parking/facilities", token: attendant, ["name": "Staff lot", "time_zone": "Europe/London"])
                    let staffZone = try await client.create("/api/v1/parking/facilities/\(facility)/zones", token: attendant,
                                                            ["name": "Staff", "kind": "staff", "hourly_rate": 0, "daily_cap": 0])
                    let visitors = try await client.create("/api/v1/parking/facilities/\(facility)/zones", token: attendant,
                                                           ["name": "Visitors", "kind": "visitor", "hourly_rate": 300, "daily_cap": 2_000])
                    _ = try await client.send(.post, "/api/v1/parking/zones/\(staffZone)/spots", token: attendant, json: ["codes": ["S1", "S2"], "kind": "standard"])
                    let users = try await client.send(.get, "/api/v1/users", token: try await client.token("admin@acme.test")).json["items"] as? [[String: Any]] ?? []
                    let nurseID = try #require(users.first { $0["email"] as? String == "nurse@acme.test" }?["id"] as? String)
                    let car = try await client.create("/api/v1/parking/vehicles", token: attendant,
                                                      ["plate": "NU 27 RSE", "country": "GB", "owner_type": "user", "owner_id": nurseID])
                    let patient = try await client.create("/api/v1/patients", token: desk, ["given_name": "Ada", "family_name": "Okafor"])
                    let patientCar = try await client.create("/api/v1/parking/vehicles", token: desk,
                                                             ["plate": "PA 1", "country": "GB", "owner_type": "patient", "owner_id": patient])

                    // Permits are for staff vehicles in staff zones; bad hours are named.
                    let permitBody: [String: Any] = ["vehicle_id": car, "facility_id": facility, "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                                                     "from_time": "07:00", "until_time": "19:00", "valid_from": "2027-01-01", "valid_until": "2027-12-31"]
                    var patientPermit = permitBody
                    patientPermit["vehicle_id"] = patientCar
                    #expect(try await client.send(.post, "/api/v1/parking/permits", token: attendant, json: patientPermit).status.code == 422)
                    var visitorPermit = permitBody
                    visitorPermit["zone_id"] = visitors
                    #expect(try await client.send(.post, "/api/v1/parking/permits", token: attendant, json: visitorPermit).status.code == 422)
                    var backwards = permitBody
                    backwards["valid_until"] = "2026-12-31"
                    let refused = try await client.send(.post, "/api/v1/parking/permits", token: attendant, json: backwards)
                    #expect(refused.status.code == 422)
                    #expect((refused.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "valid_until")
                    #expect(try await client.send(.post, "/api/v1/parking/permits", token: desk, json: permitBody).status == .forbidden)
                    #expect(try await parking.permits(facilityID: facility, in: scope).isEmpty)
                    let permit = try await client.create("/api/v1/parking/permits", token: attendant, permitBody)

                    // Before 07:00 on the clock (GMT, the day before the change) there is no way in.
                    await #expect(throws: ParkingError.self) {
                        try await parking.checkIn(plate: "nu27rse", facilityID: facility, at: Self.instant("2027-03-27T06:45:00Z"), in: scope, by: .system)
                    }
                    // 06:45 UTC on the day the clocks went forward is 07:45 BST: in, until 19:00 BST.
                    let stay = try await parking.checkIn(plate: "nu27rse", facilityID: facility, at: Self.instant("2027-03-28T06:45:00Z"), in: scope, by: .system)
                    #expect(stay.status == "checked_in")
                    #expect(stay.permitID == permit)
                    #expect(stay.endsAt == "2027-03-28T18:00:00.000Z")
                    #expect(stay.zoneID == staffZone)
                    await #expect(throws: ParkingError.self) {
                        try await parking.checkIn(plate: "NU27RSE", facilityID: facility, at: Self.instant("2027-03-28T07:00:00Z"), in: scope, by: .system)
                    }
                    let out = try await parking.checkOut(plate: "NU27RSE", facilityID: facility, at: Self.instant("2027-03-28T10:45:00Z"), in: scope, by: .system)
                    #expect(out.amount == 0)
                    #expect(out.invoiceID == nil)

                    // The day had 23 hours; the stay filled 4 of the 46 spot-hours of the staff zone.
                    let report = try await client.send(.get, "/api/v1/parking/facilities/\(facility)/report?date=2027-03-28", token: attendant)
                    #expect(report.status == .ok)
                    #expect(report.json["hours"] as? Double == 23)
                    #expect(report.json["starts_at"] as? String == "2027-03-28T00:00:00.000Z")
                    let zones = report.json["zones"] as? [[String: Any]] ?? []
                    let staffDay = try #require(zones.first { $0["zone_id"] as? String == staffZone })
                    #expect(staffDay["check_ins"] as? Int == 1)
                    #expect(staffDay["occupied_hours"] as? Double == 4)
                    #expect(staffDay["spot_hours"] as? Double == 46)
                    #expect(staffDay["occupancy_percent"] as? Double == 8.7)
                    #expect(staffDay["peak"] as? Int == 1)
                    let before = try await client.send(.get, "/api/v1/parking/facilities/\(facility)/report?date=2027-03-27", token: attendant).json
                    #expect((before["zones"] as? [[String: Any]])?.first { $0["zone_id"] as? String == staffZone }?["check_ins"] as? Int == 0)
                    #expect(try await client.send(.get, "/api/v1/parking/facilities/\(facility)/report?date=2027-13-01", token: attendant).status.code == 400)

                    // Revoked, the permit opens nothing.
                    let revoked = try await client.send(.post, "/api/v1/parking/permits/\(permit)/revoke", token: attendant)
                    #expect(revoked.json["status"] as? String == "revoked")
                    await #expect(throws: ParkingError.self) {
                        try await parking.checkIn(plate: "NU27RSE", facilityID: facility, at: Self.instant("2027-03-29T08:00:00Z"), in: scope, by: .system)
                    }
                    let listed = try await client.send(.get, "/api/v1/parking/permits?facility_id=\(facility)", token: attendant).json
                    #expect((listed["items"] as? [[String: Any]])?.map { $0["status"] as? String } == ["revoked"])

                    // Another clinic's attendant finds nothing behind acme's ids, and changes nothing.
                    let other = try await client.token("attendant@zenith.test", tenant: "zenith")
                    #expect(try await client.send(.post, "/api/v1/parking/permits/\(permit)/revoke", token: other).status == .notFound)
                    #expect(try await client.send(.get, "/api/v1/parking/facilities/\(facility)/report", token: other).status == .notFound)
                    let theirs = try await client.send(.get, "/api/v1/parking/permits?facility_id=\(facility)", token: other).json
                    #expect((theirs["items"] as? [Any])?.isEmpty == true)
                    var foreign = permitBody
                    foreign["vehicle_id"] = car
                    #expect(try await client.send(.post, "/api/v1/parking/permits", token: other, json: foreign).status.code == 422)
                }
            }
        }
    }

    @Test("the booking routes allow each user the configured quota: 429 with Retry-After and RateLimit headers beyond it, nothing booked",
          arguments: TestBackend.allCases)
    func bookingLimit(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: ["WARD_RATE_LIMITS": "booking=3/h"]) { node in
                try await node.clinic()
                let clock = node.clock
                try await node.test { client in
                    let attendant = try await client.token("attendant@acme.test"), desk = try await client.token("desk@acme.test")
                    let estate = try await ParkingTests.estate(client, token: attendant, spots: 6)
                    let patient = try await client.create("/api/v1/patients", token: desk, ["given_name": "Ada", "family_name": "Okafor"])
                    let vehicle = try await client.create("/api/v1/parking/vehicles", token: desk,
                                                          ["plate": "RL 1", "country": "GB", "owner_type": "patient", "owner_id": patient])
                    func book(_ token: String, hours: Double) async throws -> TestResponse {
                        try await client.send(.post, "/api/v1/parking/bookings", token: token,
                                              json: ["vehicle_id": vehicle, "zone_id": estate.zone, "starts_at": later(hours: hours), "ends_at": later(hours: hours + 1)])
                    }
                    // A malformed request does not use up the quota (the three below all pass).
                    #expect([400, 422].contains(try await client.send(.post, "/api/v1/parking/bookings", token: desk, json: ["vehicle_id": "nope"]).status.code))
                    for (index, hours) in [1.0, 3, 5].enumerated() {
                        let response = try await book(desk, hours: hours)
                        #expect(response.status == .created)
                        #expect(response.headers[HTTPField.Name("RateLimit-Policy")!] == "\"user\";q=1000;w=3600, \"booking\";q=3;w=3600")
                        #expect(response.headers[HTTPField.Name("RateLimit")!]?.contains("\"booking\";r=\(2 - index);t=") == true)
                    }
                    let refused = try await book(desk, hours: 7)
                    #expect(refused.status == .tooManyRequests)
                    #expect(refused.headers[.contentType] == "application/problem+json")
                    #expect((1_100...1_200).contains(Int(refused.headers[.retryAfter] ?? "") ?? 0))
                    #expect(refused.headers[HTTPField.Name("RateLimit")!]?.contains("\"booking\";r=0;") == true)
                    let booked = try await client.send(.get, "/api/v1/parking/bookings?facility_id=\(estate.facility)", token: desk)
                    #expect((booked.json["items"] as? [Any])?.count == 3)
                    // Other users have quotas of their own.
                    #expect(try await book(attendant, hours: 7).status == .created)
                    // Twenty minutes on (past the access token's life: signed in again), the desk may book one more.
                    clock.advance(by: .seconds(1_200))
                    let again = try await client.token("desk@acme.test")
                    #expect(try await book(again, hours: 9).status == .created)
                    #expect(try await book(again, hours: 11).status == .tooManyRequests)

                    let metrics = try await client.execute(uri: "/metrics", method: .get).text
                    #expect(metrics.contains(#"ratelimit_rejected_total{policy="booking"} 2"#))
                    #expect(metrics.contains(#"parking_bookings_total{outcome="booked"} 5"#))
                }
            }
        }
    }
}
