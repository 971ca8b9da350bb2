import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardClinical
import WardCore
import WardTestSupport

@Suite("Calendar and reports pages")
struct CalendarAndReportsTests {
    /// 2026-12-10 at `hour`:00 UTC (the test clinic's time zone).
    static func at(_ hour: Int, _ minute: Int = 0) -> Date {
        Timestamp.date(String(format: "2026-12-10T%02d:%02d:00Z", hour, minute))!
    }

    @Test("the desk sees a practitioner's day and week and moves appointments along; a stale or impossible change is explained", arguments: TestBackend.allCases)
    func calendar(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("desk@acme.test", roles: ["receptionist"])
                let clinic = try await node.clinic()
                let doctor = try await clinic.scheduling.createPractitioner(name: "Dr. Lena Park", specialty: nil, licenceNumber: nil, email: nil,
                                                                            in: clinic.scope, by: .system)
                let first = try await node.patient("Tomas", "Novak"), second = try await node.patient("Mira", "Sato")
                let early = try await clinic.scheduling.book(patientID: first.id, practitionerID: doctor.id, start: Self.at(9), end: Self.at(9, 30),
                                                             reason: "Review", in: clinic.scope, by: .system)
                _ = try await clinic.scheduling.book(patientID: second.id, practitionerID: doctor.id, start: Self.at(11), end: Self.at(11, 20),
                                                     reason: nil, in: clinic.scope, by: .system)
                try await node.test { client in
                    let desk = Browser(client)
                    try await desk.signIn("desk@acme.test")
                    let day = try await desk.get("/app/calendar?practitioner_id=\(doctor.id)&day=2026-12-10")
                    #expect(day.status == .ok)
                    let novak = try #require(day.text.range(of: "Novak, Tomas")), sato = try #require(day.text.range(of: "Sato, Mira"))
                    #expect(novak.lowerBound < sato.lowerBound, "in time order")
                    #expect(day.text.contains("09:00–09:30"))
                    let week = try await desk.get("/app/calendar?practitioner_id=\(doctor.id)&day=2026-12-08&view=week")
                    #expect(week.text.contains("Thursday 10 December 2026") && week.text.contains("Novak, Tomas"))
                    #expect(week.text.components(separatedBy: "<section ").count - 1 == 7)
                    let empty = try await desk.get("/app/calendar?practitioner_id=\(doctor.id)&day=2026-12-11")
                    #expect(!empty.text.contains("Novak, Tomas") && empty.text.contains("No appointments."))

                    let token = try #require(Browser.formToken(day.text))
                    let back = "/app/calendar?practitioner_id=\(doctor.id)&day=2026-12-10"
                    let arrived = try await desk.post("/app/appointments/\(early.id)/status", ["version": "1", "status": "arrived", "back": back], token: token)
                    #expect(arrived.status == .seeOther)
                    #expect(arrived.headers[.location] == back)
                    let moved = try await clinic.scheduling.appointments(practitionerID: doctor.id, patientID: first.id, status: nil, from: nil, to: nil,
                                                                         after: nil, limit: 5, in: clinic.scope, by: .system)
                    #expect(moved.first?.status == "arrived" && moved.first?.version == 2)
                    let stale = try await desk.post("/app/appointments/\(early.id)/status", ["version": "1", "status": "fulfilled", "back": back], token: token)
                    #expect(stale.status == .conflict)
                    #expect(stale.text.contains("Someone else changed this appointment just now."))
                    let impossible = try await desk.post("/app/appointments/\(early.id)/status", ["version": "2", "status": "noshow", "back": back], token: token)
                    #expect(impossible.status == .conflict)
                    #expect(impossible.text.contains("An appointment that is arrived cannot become noshow."))
                }
            }
        }
    }

    @Test("the daily report shows the stored count, or today's so far; only roles with reports:read see it", arguments: TestBackend.allCases)
    func reports(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("doctor@acme.test", roles: ["doctor"])
                try await node.user("nurse@acme.test", roles: ["nurse"])
                let clinic = try await node.clinic()
                _ = try await node.patient("Tomas", "Novak")
                _ = try await node.patient("Mira", "Sato")
                try await node.test { client in
                    let doctor = Browser(client), nurse = Browser(client)
                    try await doctor.signIn("doctor@acme.test")
                    try await nurse.signIn("nurse@acme.test")
                    #expect(try await nurse.get("/app/reports").status == .forbidden)
                    #expect(!(try await nurse.get("/app").text.contains("/app/reports")))

                    let today = try await doctor.get("/app/reports")
                    #expect(today.status == .ok)
                    #expect(today.text.contains("So far today"))
                    #expect(today.text.contains(#"<th scope="row">New patients</th><td>2</td>"#))
                    let day = String(Timestamp.text(Date()).prefix(10))
                    _ = try await DailyReport.generate(day: day, in: clinic.scope)
                    #expect(try await doctor.get("/app/reports?day=\(day)").text.contains("As counted after the day ended."))
                    #expect(try await doctor.get("/app/reports?day=2026-02-30").status == .unprocessableContent)
                    let reads = try await clinic.audit.events(in: clinic.scope, filter: .init(), before: nil, limit: 100).filter { $0.resourceType == "daily_report" }
                    #expect(reads.count == 2)
                }
            }
        }
    }
}
