import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardServer
import WardStorage
import WardTestSupport

@Suite("Console pages")
struct ConsolePagesTests {
    static let fastJobs = ["WARD_JOBS_POLL_INTERVAL": "0.02", "WARD_JOBS_RETRY_DELAY": "0.05", "WARD_JOBS_MAX_ATTEMPTS": "2"]

    @Test("an administrator provisions a tenant and watches its steps; suspends, resumes and deletes it", arguments: TestBackend.allCases)
    func provisionAndManage(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: Self.fastJobs) { node in
                try await node.services.identity.createPlatformAdmin(email: "ops@ward.test", name: "Olu Operator", password: goodPassword)
                let services = node.services
                try await node.test { client in
                    let console = Browser(client)
                    #expect(try await console.get("/console").headers[.location] == "/console/sign-in?next=%2Fconsole")
                    let page = try await console.get("/console/sign-in")
                    let wrong = try await console.post("/console/sign-in", ["email": "ops@ward.test", "password": "not-the-password-at-all"],
                                                       token: Browser.formToken(page.text))
                    #expect(wrong.status == .unauthorized)
                    #expect(wrong.text.contains("The email or password is not right."))
                    let signedIn = try await console.post("/console/sign-in", ["email": "ops@ward.test", "password": goodPassword, "next": "/console"],
                                                          token: Browser.formToken(page.text))
                    #expect(signedIn.status == .seeOther)
                    let cookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("ward_console=") })
                    #expect(cookie.contains("Path=/console") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"))

                    let list = try await console.get("/console")
                    #expect(list.status == .ok && list.text.contains("Olu Operator"))
                    let token = try #require(Browser.formToken(list.text))

                    let noAdmin = try await console.post("/console/tenants", ["name": "North Clinic", "slug": "north", "timezone": "UTC"], token: token)
                    #expect(noAdmin.status == .unprocessableContent)
                    #expect(noAdmin.text.contains(#"id="field-admin-email-error""#))
                    let invalid = try await console.post("/console/tenants", ["name": "North Clinic", "slug": "North Clinic!", "timezone": "Mars/Olympus",
                                                                              "admin_email": "head@north.test"], token: token)
                    #expect(invalid.status == .unprocessableContent)
                    #expect(invalid.text.contains(#"id="field-slug-error""#) && invalid.text.contains(#"id="field-timezone-error""#))
                    #expect(try await services.storage.tenants.list().isEmpty)

                    let requested = try await console.post("/console/tenants", ["name": "North Clinic", "slug": "north", "timezone": "Europe/Oslo",
                                                                                "admin_email": "head@north.test", "admin_name": "Dr Head"], token: token)
                    #expect(requested.headers[.location] == "/console/tenants/north")
                    let pending = try await console.get("/console/tenants/north")
                    #expect(pending.text.contains(#"data-refresh="/console/tenants/north?partial=1""#), "the page refreshes its steps while provisioning")
                    #expect(pending.text.contains("pending"))

                    // Until the last step's entry is written (it follows the status change).
                    let lifecycle = services.lifecycle
                    let activated: @Sendable () async throws -> Bool = {
                        try await lifecycle.describe("north").steps.contains { $0.step == "activate" && $0.outcome == "succeeded" }
                    }
                    #expect(try await runWorkers([NodeJobs.worker(services)], until: activated, timeout: .seconds(120)))
                    let steps = try await console.get("/console/tenants/north?partial=1")
                    #expect(!steps.text.contains("<html"))
                    for step in ["reserve_slug", "create_database", "migrate", "seed", "create_admin", "queue_welcome_email", "activate"] {
                        #expect(steps.text.contains("<td>\(step)</td><td>1</td><td>succeeded</td>"), "\(step)")
                    }
                    #expect(steps.text.contains("data-final"), "the page stops refreshing once active")

                    let taken = try await console.post("/console/tenants", ["name": "North again", "slug": "north", "timezone": "UTC",
                                                                            "admin_email": "other@north.test"], token: token)
                    #expect(taken.status == .conflict)

                    #expect(try await console.post("/console/tenants/north/suspend", [:], token: token).status == .seeOther)
                    #expect(try await services.storage.tenants.fetch(slug: "north")?.status == .suspended)
                    #expect(try await console.post("/console/tenants/north/resume", [:], token: token).status == .seeOther)
                    let unconfirmed = try await console.post("/console/tenants/north/delete", ["confirm": "nort"], token: token)
                    #expect(unconfirmed.status == .unprocessableContent)
                    #expect(unconfirmed.text.contains("Type north to confirm."))
                    #expect(try await services.storage.tenants.fetch(slug: "north")?.status == .active)
                    #expect(try await console.post("/console/tenants/north/delete", ["confirm": "north"], token: nil).status == .forbidden)
                    #expect(try await console.post("/console/tenants/north/delete", ["confirm": "north"], token: token).status == .seeOther)
                    #expect(try await services.storage.tenants.fetch(slug: "north")?.status == .deleting)

                    let out = try await console.post("/console/sign-out", [:], token: token)
                    #expect(out.headers[.location] == "/console/sign-in?signed_out=1")
                    console.cookies["ward_console"] = String(cookie.dropFirst("ward_console=".count).prefix { $0 != ";" })
                    #expect(try await console.get("/console").headers[.location]?.contains("expired=1") == true, "signed out on the server")
                }
            }
        }
    }

    @Test("a clinic's session opens no console page and a console session no clinic page")
    func separateSessions() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site) { node in
                try await node.user("admin@acme.test", roles: ["tenant_admin"])
                try await node.services.identity.createPlatformAdmin(email: "ops@ward.test", name: "Ops", password: goodPassword)
                try await node.test { client in
                    let clinic = Browser(client)
                    try await clinic.signIn("admin@acme.test")
                    let session = try #require(clinic.cookies["ward_session"])
                    let asConsole = try await client.execute(uri: "/console", method: .get, headers: [.cookie: "ward_console=\(session)"])
                    #expect(asConsole.status == .found)

                    let console = Browser(client)
                    let page = try await console.get("/console/sign-in")
                    _ = try await console.post("/console/sign-in", ["email": "ops@ward.test", "password": goodPassword], token: Browser.formToken(page.text))
                    let consoleCookie = try #require(console.cookies["ward_console"])
                    let asClinic = try await client.execute(uri: "/app", method: .get, headers: [.cookie: "ward_session=\(consoleCookie)"])
                    #expect(asClinic.status == .found)
                    // A clinic user's password does not open the console.
                    let other = Browser(client)
                    let form = try await other.get("/console/sign-in")
                    #expect(try await other.post("/console/sign-in", ["email": "admin@acme.test", "password": goodPassword],
                                                 token: Browser.formToken(form.text)).status == .unauthorized)
                }
            }
        }
    }
}
