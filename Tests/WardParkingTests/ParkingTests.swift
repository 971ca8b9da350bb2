import Foundation
import HTTPTypes
import HummingbirdTesting
import SQLKit
import Testing
@testable import WardParking
import WardCore
import WardServer
import WardTestSupport

@Suite("Parking")
struct ParkingTests {
    @Test("plates are matched however they are typed; stays are priced by the zone's rates")
    func platesAndPrices() {
        #expect(Plate.normalised("ab-12 cd") == "AB12CD")
        #expect(Plate.normalised("AB12CD") == "AB12CD")
        #expect(Plate.normalised("Ö-123") == nil)
        #expect(Plate.normalised("A") == nil)
        let zone = Zone(id: "z", facilityID: "f", name: "P1", level: nil, kind: "patient", hourlyRate: 250, dailyCap: 1_500, freeMinutes: 30, createdAt: "")
        #expect(ParkingService.price(minutes: 25, zone: zone, patient: true) == 0)
        #expect(ParkingService.price(minutes: 25, zone: zone, patient: false) == 250)
        #expect(ParkingService.price(minutes: 61, zone: zone, patient: true) == 500)
        #expect(ParkingService.price(minutes: 10 * 60, zone: zone, patient: false) == 1_500)           // capped for the day
        #expect(ParkingService.price(minutes: 25 * 60 + 1, zone: zone, patient: false) == 1_500 + 500) // a day, then 2 started hours
        var staff = zone
        staff.kind = "staff"
        #expect(ParkingService.price(minutes: 600, zone: staff, patient: false) == 0)
    }

    /// A car park with a zone of `spots` standard spots; the ids.
    static func estate(_ client: any TestClientProtocol, token: String, spots: Int) async throws -> (facility: String, zone: String, spots: [String]) {
        let facility = try await client.create("/api/v1/parking/facilities", token: token, ["name": "North car park", "time_zone": "Europe/London"])
        let zone = try await client.create("/api/v1/parking/facilities/\(facility)/zones", token: token,
                                           ["name": "Level 1", "kind": "patient", "hourly_rate": 250, "daily_cap": 1_500, "free_minutes": 30])
        let made = try await client.send(.post, "/api/v1/parking/zones/\(zone)/spots", token: token,
                                         json: ["codes": (1...spots).map { "A\($0)" }, "kind": "standard"])
        let ids = (made.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        return (facility, zone, ids)
    }

    @Test("one spot booked 32 times at once: exactly one booking holds it; edges may touch", arguments: TestBackend.allCases)
    func oneSpot(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.clinic()
                try await node.test { client in
                    let attendant = try await client.token("attendant@acme.test"), desk = try await client.token("desk@acme.test")
                    let estate = try await Self.estate(client, token: attendant, spots: 1)
                    let patient = try await client.create("/api/v1/patients", token: desk, ["given_name": "Ada", "family_name": "Okafor"])
                    var vehicles: [String] = []
                    for index in 0..<32 {
                        vehicles.append(try await client.create("/api/v1/parking/vehicles", token: desk,
                                                                ["plate": "PL \(100 + index)", "country": "GB", "owner_type": "patient", "owner_id": patient]))
                    }
                    let start = later(hours: 2), end = later(hours: 4)
                    let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                        for vehicle in vehicles {
                            group.addTask {
                                try await client.send(.post, "/api/v1/parking/bookings", token: desk,
                                                      json: ["vehicle_id": vehicle, "spot_id": estate.spots[0], "starts_at": start, "ends_at": end]).status
                            }
                        }
                        return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
                    }
                    #expect(statuses.filter { $0 == .created }.count == 1)
                    #expect(statuses.filter { $0 == .conflict }.count == 31)
                    // Overlapping at either end is refused; touching (end = next start) is not.
                    for (from, to, expected) in [(later(hours: 1), later(hours: 2.5), HTTPResponse.Status.conflict),
                                                 (later(hours: 3.5), later(hours: 5), .conflict), (later(hours: 4), later(hours: 5), .created),
                                                 (later(hours: 1), start, .created)] {
                        let status = try await client.send(.post, "/api/v1/parking/bookings", token: desk,
                                                           json: ["vehicle_id": vehicles[31], "spot_id": estate.spots[0], "starts_at": from, "ends_at": to]).status
                        if status == .created { continue }
                        #expect(status == expected, "\(from)–\(to)")
                    }
                    // The same spot code added twice at once: one is added, the other told it exists (409, not a 500).
                    let added = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                        for _ in 0..<2 {
                            group.addTask { try await client.send(.post, "/api/v1/parking/zones/\(estate.zone)/spots", token: attendant,
                                                                  json: ["codes": ["C1"], "kind": "standard"]).status }
                        }
                        return try await group.reduce(into: [Int]()) { $0.append($1.code) }
                    }
                    #expect(added.sorted() == [201, 409])
                    let booked = try await client.send(.get, "/api/v1/parking/bookings?facility_id=\(estate.facility)&status=reserved", token: attendant)
                    #expect((booked.json["items"] as? [Any])?.count == 3)
                    // The nurse has no part in parking; the desk books but does not build car parks.
                    let nurse = try await client.token("nurse@acme.test")
                    #expect(try await client.send(.get, "/api/v1/parking/facilities", token: nurse).status == .forbidden)
                    #expect(try await client.send(.post, "/api/v1/parking/zones/\(estate.zone)/spots", token: desk,
                                                  json: ["codes": ["B1"], "kind": "standard"]).status == .forbidden)
                }
            }
        }
    }

    @Test("'any spot' bookings fill a zone exactly to capacity under concurrency", arguments: TestBackend.allCases)
    func anySpot(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.clinic()
                try await node.test { client in
                    let attendant = try await client.token("attendant@acme.test"), desk = try await client.token("desk@acme.test")
                    let estate = try await Self.estate(client, token: attendant, spots: 5)
                    let patient = try await client.create("/api/v1/patients", token: desk, ["given_name": "Ada", "family_name": "Okafor"])
                    var vehicles: [String] = []
                    for index in 0..<12 {
                        vehicles.append(try await client.create("/api/v1/parking/vehicles", token: desk,
                                                                ["plate": "ANY\(index)", "country": "GB", "owner_type": "patient", "owner_id": patient]))
                    }
                    let start = later(hours: 1), end = later(hours: 3)
                    let spots = try await withThrowingTaskGroup(of: String?.self) { group in
                        for vehicle in vehicles {
                            group.addTask {
                                try await client.send(.post, "/api/v1/parking/bookings", token: desk,
                                                      json: ["vehicle_id": vehicle, "zone_id": estate.zone, "kind": "standard", "starts_at": start, "ends_at": end])
                                    .json["spot_id"] as? String
                            }
                        }
                        return try await group.reduce(into: [String]()) { if let spot = $1 { $0.append(spot) } }
                    }
                    #expect(spots.count == 5)
                    #expect(Set(spots) == Set(estate.spots))
                    let free = try await client.send(.get, "/api/v1/parking/availability?facility_id=\(estate.facility)&starts_at=\(start)&ends_at=\(end)", token: desk)
                    #expect((free.json["items"] as? [Any])?.count == 0)
                    let after = try await client.send(.get, "/api/v1/parking/availability?facility_id=\(estate.facility)&starts_at=\(end)&ends_at=\(later(hours: 4))",
                                                      token: desk)
                    #expect((after.json["items"] as? [Any])?.count == 5)
                }
            }
        }
    }

    @Test("the no-show job is queued only for clinics that run a car park, one found at start with a facility the control plane lacked included",
          arguments: TestBackend.allCases)
    func noShowsWhereParked(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.clinic("acme")
                try await node.clinic("beta")
                let scheduler = try NodeJobs.scheduler(node.services)
                func noShowTenants(at minutes: Double) async throws -> Set<String?> {
                    // Every five minutes on the hour's grid; a minute past one of them.
                    let base = (Date().timeIntervalSince1970 / 300).rounded(.up) * 300
                    let fired = try await scheduler.fire(at: Date(timeIntervalSince1970: base + minutes * 60 + 60))
                    return Set(fired.filter { $0.kind == ParkingModule.noShowKind }.map(\.tenant))
                }
                #expect(try await noShowTenants(at: 0).isEmpty)
                try await node.test { client in
                    _ = try await Self.estate(client, token: try await client.token("attendant@acme.test"), spots: 1)
                }
                #expect(try await noShowTenants(at: 5) == ["acme"])

                // A facility an earlier build stored, without a record in the control plane: the
                // start's walk over the clinics records it.
                let (parking, beta) = try await node.parking("beta")
                try await beta.transaction { database in
                    try await database.insert(into: try beta.table("parking_facilities")).columns("id", "name", "time_zone", "created_at")
                        .values(SQLBind(UUIDv7.id()), SQLBind("South"), SQLBind("Europe/London"), SQLBind(Timestamp.now())).run()
                }
                #expect(try await noShowTenants(at: 10) == ["acme"])
                let recorded = try await ParkingTenants(storage: node.services.storage).all()
                #expect(try await parking.recordCarPark(in: beta, recorded: recorded))
                #expect(try await !parking.recordCarPark(in: beta, recorded: try await ParkingTenants(storage: node.services.storage).all()))
                #expect(try await noShowTenants(at: 15) == ["acme", "beta"])

                // A purged clinic leaves the record.
                try await ParkingModule(node: node.services.node).purge(beta.tenant)
                #expect(try await noShowTenants(at: 20) == ["acme"])
            }
        }
    }

    @Test("a clinic with a car park the control plane holds no record of (restored from a backup) is recorded by its next booking",
          arguments: TestBackend.allCases)
    func bookingRecordsTheClinic(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            let made = Made()
            try await TestNode.with(site) { node in
                try await node.clinic()
                try await node.test { client in
                    let attendant = try await client.token("attendant@acme.test"), desk = try await client.token("desk@acme.test")
                    let estate = try await Self.estate(client, token: attendant, spots: 1)
                    let patient = try await client.create("/api/v1/patients", token: desk, ["given_name": "Ada", "family_name": "Okafor"])
                    let vehicle = try await client.create("/api/v1/parking/vehicles", token: desk,
                                                          ["plate": "ab12 cde", "country": "GB", "owner_type": "patient", "owner_id": patient])
                    await made.set(spot: estate.spots[0], vehicle: vehicle)
                }
                let storage = node.services.storage
                try await storage.controlPlane.autocommit { database in
                    try await database.delete(from: SQLQualifiedTable("parking_tenants", space: storage.controlPlaneTarget.schema)).run()
                }
            }
            // Another node, so nothing is remembered in memory either.
            try await TestNode.with(site) { node in
                let recorded = ParkingTenants(storage: node.services.storage)
                #expect(try await recorded.all().isEmpty)
                let (spot, vehicle) = await made.ids
                try await node.test { client in
                    _ = try await client.create("/api/v1/parking/bookings", token: try await client.token("desk@acme.test"),
                                                ["vehicle_id": vehicle, "spot_id": spot, "starts_at": later(hours: 1), "ends_at": later(hours: 2)])
                }
                #expect(try await recorded.all() == [try await node.services.storage.tenants.activeScope(slug: "acme").tenant.id])
            }
        }
    }

    /// What one node made, for the next.
    private actor Made {
        var ids = ("", "")
        func set(spot: String, vehicle: String) { ids = (spot, vehicle) }
    }

    @Test("at the gate: check-in by plate as typed, check-out priced, a patient's stay on a draft invoice; no-shows release their spot",
          arguments: TestBackend.allCases)
    func gate(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.clinic()
                let (parking, scope) = try await node.parking()
                try await node.test { client in
                    let attendant = try await client.token("attendant@acme.test"), desk = try await client.token("desk@acme.test")
                    let estate = try await Self.estate(client, token: attendant, spots: 2)
                    let patient = try await client.create("/api/v1/patients", token: desk, ["given_name": "Ada", "family_name": "Okafor"])
                    let vehicle = try await client.create("/api/v1/parking/vehicles", token: desk,
                                                          ["plate": "ab12 cde", "country": "GB", "owner_type": "patient", "owner_id": patient])
                    #expect(try await client.send(.post, "/api/v1/parking/vehicles", token: desk,
                                                  json: ["plate": "AB-12-CDE", "country": "GB", "owner_type": "patient", "owner_id": patient]).status == .conflict)
                    let booking = try await client.create("/api/v1/parking/bookings", token: desk,
                                                          ["vehicle_id": vehicle, "spot_id": estate.spots[0], "starts_at": later(hours: 0.25), "ends_at": later(hours: 3)])
                    let checkedIn = try await client.send(.post, "/api/v1/parking/check-in", token: attendant, json: ["facility_id": estate.facility, "plate": "AB 12 CDE"])
                    #expect(checkedIn.json["status"] as? String == "checked_in")
                    let occupancy = try await client.send(.get, "/api/v1/parking/facilities/\(estate.facility)/occupancy", token: attendant).json
                    #expect(((occupancy["zones"] as? [[String: Any]])?.first)?["occupied"] as? Int == 1)

                    // Two and a half hours later (the clock at the gate), out: 3 started hours at 2.50.
                    let out = try await parking.checkOut(plate: "ab12cde", facilityID: estate.facility, at: Date().addingTimeInterval(150 * 60), in: scope, by: .system)
                    #expect(out.status == "completed")
                    #expect(out.amount == 750)
                    let invoiceID = try #require(out.invoiceID)
                    let invoice = try await client.send(.get, "/api/v1/invoices/\(invoiceID)", token: try await client.token("clerk@acme.test")).json
                    #expect(invoice["total"] as? Int == 750)
                    #expect(invoice["status"] as? String == "draft")
                    #expect(try await client.send(.post, "/api/v1/parking/bookings/\(booking)/cancel", token: desk).status == .conflict)

                    // A reservation nobody came for is released after the grace period.
                    let missed = try await client.create("/api/v1/parking/bookings", token: desk,
                                                         ["vehicle_id": vehicle, "spot_id": estate.spots[1], "starts_at": later(hours: 5), "ends_at": later(hours: 6)])
                    #expect(try await parking.markNoShows(at: Date().addingTimeInterval(5 * 3600 + 10 * 60), in: scope) == 0)
                    #expect(try await parking.markNoShows(at: Date().addingTimeInterval(5 * 3600 + 20 * 60), in: scope) == 1)
                    let listed = try await client.send(.get, "/api/v1/parking/bookings?status=no_show", token: attendant).json
                    #expect((listed["items"] as? [[String: Any]])?.first?["id"] as? String == missed)
                }
            }
        }
    }

    @Test("a patient's plate is sealed at rest and found at the gate by its blind index; a staff plate stays in clear; an earlier build's clear plates are sealed",
          arguments: TestBackend.allCases)
    func sealedPlates(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.clinic()
                let (parking, scope) = try await node.parking()
                let nurse = try await scope.read { database in
                    try await database.raw("SELECT id FROM \(try scope.table("users")) WHERE email = 'nurse@acme.test'").first()?.decode(column: "id", as: String.self)
                }
                try await node.test { client in
                    let attendant = try await client.token("attendant@acme.test"), desk = try await client.token("desk@acme.test")
                    let estate = try await Self.estate(client, token: attendant, spots: 2)
                    let patient = try await client.create("/api/v1/patients", token: desk, ["given_name": "Ada", "family_name": "Okafor"])
                    let vehicle = try await client.create("/api/v1/parking/vehicles", token: desk,
                                                          ["plate": "xy 99 zzq", "country": "GB", "owner_type": "patient", "owner_id": patient])
                    _ = try await client.create("/api/v1/parking/vehicles", token: desk,
                                                ["plate": "ST 11 AFF", "country": "GB", "owner_type": "user", "owner_id": try #require(nurse)])
                    #expect(try await client.send(.post, "/api/v1/parking/vehicles", token: desk,
                                                  json: ["plate": "XY-99-ZZQ", "country": "GB", "owner_type": "user", "owner_id": try #require(nurse)]).status == .conflict)
                    _ = try await client.create("/api/v1/parking/bookings", token: desk,
                                                ["vehicle_id": vehicle, "spot_id": estate.spots[0], "starts_at": later(hours: 0.25), "ends_at": later(hours: 3)])
                    let found = try await client.send(.get, "/api/v1/parking/vehicles?plate=xy-99-zzq", token: attendant)
                    #expect(found.json["id"] as? String == vehicle && found.json["plate"] as? String == "XY99ZZQ")
                    let checkedIn = try await client.send(.post, "/api/v1/parking/check-in", token: attendant, json: ["facility_id": estate.facility, "plate": "XY 99 ZZQ"])
                    #expect(checkedIn.json["status"] as? String == "checked_in" && checkedIn.json["plate"] as? String == "XY99ZZQ")
                    let listed = try await client.send(.get, "/api/v1/parking/bookings?status=checked_in", token: attendant).json
                    #expect((listed["items"] as? [[String: Any]])?.first?["plate"] as? String == "XY99ZZQ")
                }
                await node.services.audit.moveJournal(everything: true, tenants: node.services.storage.tenants)

                // As stored: the patient's plate nowhere in clear (vehicles, bookings, the audit
                // trail), the staff plate in clear.
                let stored = try await scope.read { database in
                    try await database.raw("SELECT plate, plate_sealed FROM \(try scope.table("parking_vehicles")) WHERE owner_type = 'patient'").first()
                }
                #expect(try stored?.decode(column: "plate", as: String.self).hasPrefix("#") == true)
                #expect(try stored?.decode(column: "plate_sealed", as: String?.self)?.hasPrefix("v1:") == true)
                if backend == .sqlite {
                    let path = site.directory + "/tenants/acme.sqlite"
                    let bytes = (try Data(contentsOf: URL(fileURLWithPath: path))) + ((try? Data(contentsOf: URL(fileURLWithPath: path + "-wal"))) ?? Data())
                    #expect(bytes.range(of: Data("XY99ZZQ".utf8)) == nil, "the patient's plate is in the file in clear")
                    #expect(bytes.range(of: Data("ST11AFF".utf8)) != nil)
                } else {
                    for table in ["parking_vehicles", "parking_bookings", "audit_events"] {
                        let text = try await scope.read { database in
                            try await database.raw("SELECT string_agg(t::text, '|') AS rows FROM \(try scope.table(table)) t").first()?.decode(column: "rows", as: String.self)
                        }
                        #expect(text?.contains("XY99ZZQ") == false, "the patient's plate is in \(table) in clear")
                        if table == "parking_vehicles" { #expect(text?.contains("ST11AFF") == true) }
                    }
                }

                // A patient's vehicle an earlier build stored in clear is sealed once, and found.
                let legacy = UUID().uuidString.lowercased()
                try await scope.transaction { database in
                    try await database.raw("""
                        INSERT INTO \(try scope.table("parking_vehicles")) (id, plate, country, owner_type, owner_id, created_at)
                        SELECT \(bind: legacy), 'OLD123', 'GB', 'patient', owner_id, created_at FROM \(try scope.table("parking_vehicles")) WHERE owner_type = 'patient'
                        """).run()
                }
                #expect(try await parking.plates.sealLegacy(in: scope, audit: node.services.audit) == 1)
                #expect(try await parking.plates.sealLegacy(in: scope, audit: node.services.audit) == 0)
                #expect(try await parking.vehicle(plate: "old 123", in: scope, by: .system).id == legacy)
            }
        }
    }
}
