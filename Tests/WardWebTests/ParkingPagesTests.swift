import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WardParking
import WardTestSupport

@Suite("Parking pages")
struct ParkingPagesTests {
    @Test("the attendant sees the car park's permits and its daily report, on the day the clocks change too; a nurse sees neither",
          arguments: TestBackend.allCases)
    func permitsAndReport(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                let attendantID = try await node.user("attendant@acme.test", roles: ["parking_attendant"])
                _ = try await node.user("nurse@acme.test", roles: ["nurse"])
                let scope = try await node.tenant()
                let parking = try node.services.node.require(ParkingService.self, by: "test")
                let lot = try await parking.addFacility(name: "Staff lot", address: nil, timeZone: "Europe/London", openingHours: nil, in: scope, by: .system)
                let zone = try await parking.addZone(facilityID: lot.id, name: "Staff level", level: nil, kind: "staff", hourlyRate: 0, dailyCap: 0,
                                                     freeMinutes: 0, in: scope, by: .system)
                _ = try await parking.addSpots(zoneID: zone.id, codes: ["S1", "S2"], kind: "standard", chargerKW: nil, in: scope, by: .system)
                let car = try await parking.addVehicle(plate: "NU 27 RSE", country: "GB", ownerType: "user", ownerID: attendantID, make: nil, colour: nil,
                                                       in: scope, by: .system)
                _ = try await parking.issuePermit(.init(vehicleID: car.id, facilityID: lot.id, zoneID: nil, days: ["sun"], fromTime: "07:00", untilTime: "19:00",
                                                        validFrom: "2027-01-01", validUntil: "2027-12-31"), in: scope, by: .system)
                _ = try await parking.checkIn(plate: "NU27RSE", facilityID: lot.id, at: ISO8601DateFormatter().date(from: "2027-03-28T06:45:00Z")!, in: scope,
                                              by: .system)
                _ = try await parking.checkOut(plate: "NU27RSE", facilityID: lot.id, at: ISO8601DateFormatter().date(from: "2027-03-28T10:45:00Z")!, in: scope,
                                               by: .system)
                try await node.test { client in
                    let attendant = Browser(client)
                    try await attendant.signIn("attendant@acme.test")
                    let page = try await attendant.get("/app/parking")
                    #expect(page.status == .ok)
                    #expect(page.text.contains("Staff permits") && page.text.contains("NU27RSE") && page.text.contains("07:00–19:00"))
                    let report = try await attendant.get("/app/parking/report?facility=\(lot.id)&date=2027-03-28")
                    #expect(report.status == .ok)
                    #expect(report.text.contains("This day had 23 hours"))
                    let bad = try await attendant.get("/app/parking/report?facility=\(lot.id)&date=2027-02-30")
                    #expect(report.text.contains("<th scope=\"row\">Staff level</th><td>staff</td><td>2</td><td>1</td><td>0</td><td>0</td><td>1</td><td>4.0 h</td><td>8.7%</td><td>1</td>"))
                    let ordinary = try await attendant.get("/app/parking/report?facility=\(lot.id)&date=2027-03-29")
                    #expect(ordinary.status == .ok && !ordinary.text.contains("This day had"))
                    #expect(ordinary.text.contains("<td>0.0 h</td><td>0.0%</td>"))
                    #expect(bad.status.code == 422)
                    #expect(bad.text.contains("There is no such day.") && bad.text.contains("id=\"field-date\""))
                    #expect(bad.headers[.contentType]?.hasPrefix("text/html") == true)

                    let nurse = Browser(client)
                    try await nurse.signIn("nurse@acme.test")
                    #expect(try await nurse.get("/app/parking/report?facility=\(lot.id)").status == .forbidden)
                    #expect(try await nurse.get("/app/parking").status == .forbidden)
                }
            }
        }
    }
}
