import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardTestSupport

@Suite("Users and roles pages")
struct UserPagesTests {
    @Test("the administrator adds a user who sets their own password, gives and takes roles, disables and enables; the rules of the API hold", arguments: TestBackend.allCases)
    func manageUsers(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                let adminID = try await node.user("admin@acme.test", roles: ["tenant_admin"], name: "Ada Admin")
                let identity = node.services.identity, scope = try await node.tenant()
                try await node.test { client in
                    let admin = Browser(client)
                    try await admin.signIn("admin@acme.test")
                    let list = try await admin.get("/app/users")
                    let token = try #require(Browser.formToken(list.text))

                    let invalid = try await admin.post("/app/users", ["name": "Nadia Rahman", "email": "not-an-email", "role": "nurse"], token: token)
                    #expect(invalid.status == .unprocessableContent)
                    #expect(invalid.text.contains(#"id="field-email-error""#))
                    let added = try await admin.post("/app/users", ["name": "Nadia Rahman", "email": "nadia@acme.test", "role": "nurse"], token: token)
                    #expect(added.status == .ok)
                    let link = try #require(added.text.firstMatch(of: /<code>(\/app\/set-password\?token=[^<]+)<\/code>/)?.1)
                    #expect(try await admin.post("/app/users", ["name": "Nadia Again", "email": "nadia@acme.test", "role": "nurse"], token: token).status == .conflict)

                    // The new user sets a password from the link and signs in as a nurse.
                    let nadia = Browser(client)
                    #expect(try await nadia.get(String(link)).status == .seeOther)
                    let page = try await nadia.get("/app/set-password")
                    let set = try await nadia.post("/app/set-password", ["token": try #require(Browser.value(of: "token", in: page.text)),
                                                                         "password": "amber-Quarry-lantern-92", "repeat": "amber-Quarry-lantern-92"],
                                                   token: Browser.formToken(page.text))
                    #expect(set.status == .seeOther)
                    #expect(try await nadia.signIn("nadia@acme.test", password: "amber-Quarry-lantern-92").status == .seeOther)
                    #expect(try await nadia.get("/app/users").status == .forbidden)

                    let users = try await admin.get("/app/users").text
                    let nadiaID = String(try #require(users.firstMatch(of: /<a href="\/app\/users\/([0-9a-f-]{36})">Nadia Rahman<\/a>/)?.1))
                    #expect(try await admin.post("/app/users/\(nadiaID)/roles/add", ["role": "doctor"], token: token).status == .seeOther)
                    #expect(try await admin.get("/app/users/\(nadiaID)").text.contains("Remove doctor"))
                    #expect(try await admin.post("/app/users/\(nadiaID)/roles/remove", ["role": "nurse"], token: token).status == .seeOther)
                    let roles = try await identity.user(nadiaID, in: scope).roles
                    #expect(roles == ["doctor"])

                    #expect(try await admin.post("/app/users/\(nadiaID)/disable", [:], token: token).status == .seeOther)
                    #expect(try await nadia.get("/app").status == .found, "disabling ends the user's sessions")
                    #expect(try await admin.post("/app/users/\(nadiaID)/enable", [:], token: token).status == .seeOther)

                    // The last tenant_admin cannot disable themselves.
                    let last = try await admin.post("/app/users/\(adminID)/disable", [:], token: token)
                    #expect(last.status == .conflict)
                    #expect(last.text.contains("Last administrator"))
                }
            }
        }
    }
}
