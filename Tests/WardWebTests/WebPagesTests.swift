import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardAudit
import WardClinical
import WardCore
import WardStorage
import WardTestSupport

@Suite("Web app pages")
struct WebPagesTests {
    @Test("signing in opens a cookie session the pages need; signing out ends it", arguments: TestBackend.allCases)
    func signInAndOut(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("desk@acme.test", roles: ["receptionist"], name: "Robin Desk")
                let clinic = try await node.clinic()
                try await node.test { client in
                    let browser = Browser(client)
                    let away = try await browser.get("/app/patients?q=smith")
                    #expect(away.status == .found)
                    #expect(away.headers[.location] == "/app/sign-in?next=%2Fapp%2Fpatients%3Fq%3Dsmith")

                    let wrong = try await browser.signIn("desk@acme.test", password: "not-the-password-at-all")
                    #expect(wrong.status == .unauthorized)
                    #expect(wrong.text.contains("The clinic, email or password is not right."))
                    #expect(browser.cookies["ward_session"] == nil)

                    let signedIn = try await browser.signIn("Desk@Acme.test")
                    #expect(signedIn.status == .seeOther)
                    #expect(signedIn.headers[.location] == "/app")
                    let cookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("ward_session=") })
                    #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/app"))
                    #expect(!cookie.contains("Secure"), "plain HTTP without a proxy saying otherwise")
                    let today = try await browser.get("/app")
                    #expect(today.status == .ok)
                    #expect(today.headers[.contentType] == "text/html; charset=utf-8")
                    #expect(today.text.contains("Robin Desk"))
                    #expect(today.text.contains(#"data-idle-seconds="1800""#))

                    // The API does not take the cookie: it is scoped to /app and is no bearer token.
                    let session = try #require(browser.cookies["ward_session"])
                    #expect(try await client.execute(uri: "/api/v1/auth/status", method: .get, headers: [.cookie: "ward_session=\(session)"]).status == .unauthorized)

                    let out = try await browser.post("/app/sign-out", [:], token: Browser.formToken(today.text))
                    #expect(out.status == .seeOther)
                    #expect(browser.cookies["ward_session"] == nil)
                    // The session is ended on the server, not only forgotten by the browser.
                    browser.cookies["ward_session"] = session
                    let after = try await browser.get("/app")
                    #expect(after.status == .found)
                    #expect(after.headers[.location]?.contains("expired=1") == true)

                    let events = try await clinic.audit.events(in: clinic.scope, filter: .init(), before: nil, limit: 50).map(\.action)
                    #expect(events.contains("login") && events.contains("logout") && events.contains("login_failed"))
                }
            }
        }
    }

    @Test("a form posted without its token, or with another session's, is 403 and changes nothing", arguments: TestBackend.allCases)
    func formTokens(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("one@acme.test", roles: ["nurse"])
                try await node.user("two@acme.test", roles: ["nurse"])
                let patient = try await node.patient("Amara", "Okafor")
                let clinic = try await node.clinic()
                try await node.test { client in
                    let one = Browser(client), two = Browser(client)
                    try await one.signIn("one@acme.test")
                    try await two.signIn("two@acme.test")
                    let chart = try await one.get("/app/patients/\(patient.id)")
                    let oneToken = try #require(Browser.formToken(chart.text))
                    let change = ["version": "1", "given_name": "Amara", "family_name": "Changed"]
                    for (browser, token) in [(two, Optional(oneToken)), (two, nil), (one, nil), (one, "forged-token")] {
                        let refused = try await browser.post("/app/patients/\(patient.id)", change, token: token)
                        #expect(refused.status == .forbidden)
                        #expect(refused.text.contains("This form could not be accepted"))
                    }
                    #expect(try await clinic.patients.read(patient.id, in: clinic.scope, by: .system).familyName == "Okafor")
                    // With its own token the same form is taken.
                    #expect(try await one.post("/app/patients/\(patient.id)", change, token: oneToken).status == .seeOther)
                    #expect(try await clinic.patients.read(patient.id, in: clinic.scope, by: .system).familyName == "Changed")

                    // The sign-in form's token is its page's cookie: without that page, no sign-in.
                    let stranger = Browser(client)
                    let blind = try await stranger.post("/app/sign-in", ["clinic": "acme", "email": "one@acme.test", "password": goodPassword],
                                                        token: String(repeating: "a", count: 64))
                    #expect(blind.status == .forbidden)
                    #expect(stranger.cookies["ward_session"] == nil)
                }
            }
        }
    }

    @Test("each page opens only to roles holding its permission, and a refusal is audited", arguments: TestBackend.allCases)
    func permissions(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("nurse@acme.test", roles: ["nurse"])
                try await node.user("admin@acme.test", roles: ["tenant_admin"], name: "Ada Admin")
                try await node.user("auditor@acme.test", roles: ["auditor"])
                let patient = try await node.patient("Kwame", "Mensah")
                let clinic = try await node.clinic()
                try await node.test { client in
                    let nurse = Browser(client), admin = Browser(client), auditor = Browser(client)
                    try await nurse.signIn("nurse@acme.test")
                    try await admin.signIn("admin@acme.test")
                    try await auditor.signIn("auditor@acme.test")

                    let nurseToday = try await nurse.get("/app")
                    #expect(!nurseToday.text.contains("/app/users"))
                    let refused = try await nurse.get("/app/users")
                    #expect(refused.status == .forbidden)
                    #expect(refused.text.contains("users:manage"))
                    #expect(!refused.text.contains("admin@acme.test"))

                    let users = try await admin.get("/app/users")
                    #expect(users.status == .ok)
                    #expect(users.text.contains("nurse@acme.test") && users.text.contains("tenant_admin"))
                    #expect(try await admin.get("/app").text.contains(#"href="/app/users""#))

                    // The auditor reads no patient record, but sees who read one.
                    #expect(try await auditor.get("/app/patients/\(patient.id)").status == .forbidden)
                    #expect(try await auditor.get("/app/patients?q=mensah").status == .forbidden)
                    let chart = try await nurse.get("/app/patients/\(patient.id)")
                    #expect(chart.status == .ok)
                    #expect(!chart.text.contains("Access log"), "the nurse does not hold audit:read")

                    let denials = try await clinic.audit.events(in: clinic.scope, filter: .init(), before: nil, limit: 100)
                        .filter { $0.action == "access" && $0.outcome == .denied }
                    #expect(denials.contains { $0.details["permission"] == "users:manage" && $0.resourceType == "/app/users" })
                    #expect(denials.contains { $0.details["permission"] == "patients:read" })
                }
            }
        }
    }

    @Test("search finds a misspelled name; the chart's edit form explains a stale version and names invalid fields", arguments: TestBackend.allCases)
    func searchAndEdit(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("desk@acme.test", roles: ["receptionist"])
                let patient = try await node.patient("Ingrid", "Johansson")
                let clinic = try await node.clinic()
                try await node.test { client in
                    let desk = Browser(client)
                    try await desk.signIn("desk@acme.test")
                    let found = try await desk.get("/app/patients?q=johanson")
                    #expect(found.text.contains("/app/patients/\(patient.id)"))
                    #expect(found.text.contains(#"aria-live="polite""#))
                    let partial = try await desk.get("/app/patients?q=johanson&partial=1")
                    #expect(partial.text.contains("Johansson, Ingrid") && !partial.text.contains("<html"))

                    let chart = try await desk.get("/app/patients/\(patient.id)")
                    let action = "/app/patients/\(patient.id)"
                    var edit = Browser.form(action, in: chart.text)
                    let token = try #require(edit["_csrf"])
                    #expect(edit["version"] == "1" && edit["was_family_name"] == "Johansson" && edit["family_name"] == "Johansson")
                    // Someone else saves first (version 2), changing the phone.
                    _ = try await clinic.patients.update(patient.id, with: PatientInput(phone: "+44 20 7946 0000"), expectedVersion: 1,
                                                         in: clinic.scope, by: .system)
                    edit["family_name"] = "Johanson-Berg"
                    let stale = try await desk.post(action, edit, token: nil)
                    #expect(stale.status == .conflict)
                    #expect(stale.text.contains("Someone else changed this record while you were editing it."))
                    let merged = Browser.form(action, in: stale.text)
                    #expect(merged["family_name"] == "Johanson-Berg", "the user's edit is kept")
                    #expect(merged["phone"] == "+44 20 7946 0000", "the other user's change is shown, not the stale value")
                    #expect(merged["version"] == "2")
                    #expect(try await clinic.patients.read(patient.id, in: clinic.scope, by: .system).familyName == "Johansson")
                    // Saving the merged form keeps both changes.
                    #expect(try await desk.post(action, merged, token: nil).status == .seeOther)
                    let both = try await clinic.patients.read(patient.id, in: clinic.scope, by: .system)
                    #expect(both.familyName == "Johanson-Berg" && both.phone == "+44 20 7946 0000" && both.version == 3)

                    // Only what the user changed is sent: a form opened before another change does
                    // not write back the values it showed.
                    let opened = Browser.form(action, in: try await desk.get(action).text)
                    _ = try await clinic.patients.update(patient.id, with: PatientInput(email: "ingrid@example.org"), expectedVersion: 3,
                                                         in: clinic.scope, by: .system)
                    var sexOnly = opened
                    sexOnly["sex"] = "female"
                    #expect(try await desk.post(action, sexOnly, token: nil).status == .conflict, "the version moved on")
                    let unchanged = try await desk.post(action, Browser.form(action, in: try await desk.get(action).text), token: nil)
                    #expect(unchanged.headers[.location] == "\(action)?unchanged=1")

                    var invalid = Browser.form(action, in: try await desk.get(action).text)
                    invalid["birth_date"] = "1980-13-45"
                    invalid["email"] = ""
                    let refused = try await desk.post(action, invalid, token: nil)
                    #expect(refused.status == .unprocessableContent)
                    #expect(refused.text.contains("Email cannot be removed here"))
                    invalid["email"] = "ingrid@example.org"
                    let wrongDate = try await desk.post(action, invalid, token: nil)
                    #expect(wrongDate.status == .unprocessableContent)
                    #expect(wrongDate.text.contains(#"id="field-birth-date" name="birth_date" type="date" value="1980-13-45" aria-invalid="true""#))
                    #expect(wrongDate.text.contains("Birth date must be"))
                    #expect(Browser.form(action, in: wrongDate.text)["was_birth_date"] == "1980-04-02", "the baseline stays the one the form was opened with")

                    invalid["birth_date"] = "1980-04-03"
                    let saved = try await desk.post(action, invalid, token: token)
                    #expect(saved.status == .seeOther)
                    #expect(try await desk.get(try #require(saved.headers[.location])).text.contains("Changes saved."))
                    #expect(try await clinic.patients.read(patient.id, in: clinic.scope, by: .system).birthDate == "1980-04-03")
                }
            }
        }
    }

    @Test("registering a patient, and booking: a taken slot is named by the appointment holding it", arguments: TestBackend.allCases)
    func registerAndBook(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("desk@acme.test", roles: ["receptionist"])
                let doctor = try await node.scheduling.createPractitioner(name: "Dr. Lena Park", specialty: "General practice", licenceNumber: nil,
                                                                          email: nil, in: try await node.tenant(), by: .system)
                let first = try await node.patient("Tomas", "Novak")
                let clinic = try await node.clinic()
                try await node.test { client in
                    let desk = Browser(client)
                    try await desk.signIn("desk@acme.test")
                    let form = try await desk.get("/app/patients/new")
                    let token = try #require(Browser.formToken(form.text))
                    let missing = try await desk.post("/app/patients", ["given_name": "Mira"], token: token)
                    #expect(missing.status == .unprocessableContent)
                    #expect(missing.text.contains(#"id="field-family-name-error""#))
                    let registered = try await desk.post("/app/patients", ["given_name": "Mira", "family_name": "Sato", "birth_date": "1991-07-30"], token: token)
                    #expect(registered.status == .seeOther)
                    let location = try #require(registered.headers[.location])
                    let secondID = String(location.dropFirst("/app/patients/".count).prefix(36))
                    #expect(try await desk.get(location).text.contains("Patient registered."))

                    let slot = ["practitioner_id": doctor.id, "start": "2026-12-10T09:00", "minutes": "30", "reason": "Review"]
                    let booked = try await desk.post("/app/appointments", slot.merging(["patient_id": first.id]) { $1 }, token: token)
                    #expect(booked.status == .seeOther)
                    let taken = try await desk.post("/app/appointments", slot.merging(["patient_id": secondID, "start": "2026-12-10T09:15"]) { $1 }, token: token)
                    #expect(taken.status == .conflict)
                    #expect(taken.text.contains("This slot is taken by the appointment of Novak, Tomas, 09:00–09:30."))
                    let appointments = try await clinic.scheduling.appointments(practitionerID: doctor.id, patientID: nil, status: nil, from: nil, to: nil,
                                                                              after: nil, limit: 10, in: clinic.scope, by: .system)
                    #expect(appointments.count == 1)

                    let noTime = try await desk.post("/app/appointments", ["patient_id": secondID, "practitioner_id": doctor.id, "minutes": "30"], token: token)
                    #expect(noTime.status == .unprocessableContent)
                    #expect(noTime.text.contains("Enter the date and time the appointment starts."))
                }
            }
        }
    }

    @Test("another clinic's patient or appointment id reads and changes nothing: 404 pages", arguments: TestBackend.allCases)
    func otherTenantsIDs(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("desk@acme.test", roles: ["receptionist"])
                let other = try await node.clinic("other")
                let theirs = try await node.patient("Elif", "Demir", tenant: "other")
                let doctor = try await other.scheduling.createPractitioner(name: "Dr. Other", specialty: nil, licenceNumber: nil, email: nil,
                                                                           in: other.scope, by: .system)
                let start = Date().addingTimeInterval(86_400)
                let visit = try await other.scheduling.book(patientID: theirs.id, practitionerID: doctor.id, start: start,
                                                            end: start.addingTimeInterval(1_800), reason: nil, in: other.scope, by: .system)
                try await node.test { client in
                    let desk = Browser(client)
                    try await desk.signIn("desk@acme.test")
                    let token = try #require(Browser.formToken(try await desk.get("/app").text))
                    let chart = try await desk.get("/app/patients/\(theirs.id)")
                    #expect(chart.status == .notFound && !chart.text.contains("Demir"))
                    let edit = try await desk.post("/app/patients/\(theirs.id)", ["version": "1", "family_name": "Changed"], token: token)
                    #expect(edit.status == .notFound)
                    let status = try await desk.post("/app/appointments/\(visit.id)/status", ["version": "1", "status": "cancelled"], token: token)
                    #expect(status.status == .notFound)
                    #expect(try await other.patients.read(theirs.id, in: other.scope, by: .system).familyName == "Demir")
                    let kept = try await other.scheduling.appointments(practitionerID: doctor.id, patientID: nil, status: nil, from: nil, to: nil,
                                                                       after: nil, limit: 5, in: other.scope, by: .system)
                    #expect(kept.first?.status == "booked")
                }
            }
        }
    }

    @Test("a session ends after 30 minutes without use, and a forged or foreign cookie opens nothing")
    func idleAndForgery() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site) { node in
                try await node.user("doctor@acme.test", roles: ["doctor"])
                try await node.user("doctor@other.test", roles: ["doctor"], tenant: "other")
                let clinic = try await node.clinic()
                try await node.test { client in
                    let browser = Browser(client)
                    try await browser.signIn("doctor@acme.test")
                    clinic.clock.advance(by: .seconds(29 * 60))
                    #expect(try await browser.get("/app").status == .ok, "use within the limit keeps the session")
                    clinic.clock.advance(by: .seconds(29 * 60))
                    #expect(try await browser.get("/app").status == .ok)
                    clinic.clock.advance(by: .seconds(31 * 60))
                    let idle = try await browser.get("/app")
                    #expect(idle.status == .found)
                    #expect(idle.headers[.location] == "/app/sign-in?next=%2Fapp&expired=1")
                    #expect(try await browser.get("/app/sign-in?expired=1").text.contains("Your session ended."))

                    let other = Browser(client)
                    try await other.signIn("doctor@other.test", clinic: "other")
                    let cookie = try #require(other.cookies["ward_session"])
                    var parts = cookie.split(separator: ".").map(String.init)
                    parts[0] = "acme"
                    let forged = Browser(client)
                    forged.cookies["ward_session"] = parts.joined(separator: ".")
                    #expect(try await forged.get("/app").status == .found)
                    // The right cookie, but asked through another clinic's address.
                    let wrongHost = try await client.execute(uri: "/app", method: .get, headers: [.cookie: "ward_session=\(cookie)", HTTPField.Name("X-Tenant-ID")!: "acme"])
                    #expect(wrongHost.status == .found)
                }
            }
        }
    }

    @Test("pages escape what users typed, carry the security headers, and load no inline script; assets are cached for a year")
    func escapingAndHeaders() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site) { node in
                try await node.user("desk@acme.test", roles: ["receptionist"])
                let patient = try await node.patient("<script>alert(1)</script>", "O'Brien \"Quote\"")
                try await node.test { client in
                    let desk = Browser(client)
                    try await desk.signIn("desk@acme.test")
                    let chart = try await desk.get("/app/patients/\(patient.id)")
                    #expect(!chart.text.contains("<script>alert(1)</script>"))
                    #expect(chart.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
                    #expect(chart.text.contains("O&#39;Brien &quot;Quote&quot;"))
                    let policy = try #require(chart.headers[.contentSecurityPolicy])
                    #expect(policy.contains("default-src 'self'") && !policy.contains("unsafe-inline"))
                    #expect(chart.headers[.cacheControl] == "no-store")
                    #expect(chart.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                    // Every script has a source; no element carries a style or an event handler.
                    let scripts = chart.text.components(separatedBy: "<script").dropFirst()
                    #expect(!scripts.isEmpty && scripts.allSatisfy { $0.hasPrefix(" src=\"/app/assets/ward.") })
                    #expect(!chart.text.contains(" style=") && !chart.text.contains(" onclick="))

                    let stylesheet = try #require(chart.text.firstMatch(of: /href="(\/app\/assets\/ward\.[0-9a-f]{12}\.css)"/)?.1)
                    let asset = try await client.execute(uri: String(stylesheet), method: .get)
                    #expect(asset.status == .ok)
                    #expect(asset.headers[.cacheControl] == "public, max-age=31536000, immutable")
                    #expect(asset.headers[.contentType] == "text/css; charset=utf-8")
                    #expect(try await client.execute(uri: "/app/assets/ward.000000000000.css", method: .get).status != .ok)

                    let missing = try await desk.get("/app/no-such-page")
                    #expect(missing.status == .notFound)
                    #expect(missing.headers[.contentType] == "text/html; charset=utf-8")
                    #expect(missing.text.contains("Page not found"))
                }
            }
        }
    }
}
