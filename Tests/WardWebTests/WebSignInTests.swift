import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import WardTestSupport

@Suite("Web app sign-in: second factor and set-password")
struct WebSignInTests {
    @Test("a user with a second factor signs in in two steps; a wrong code or a stale ticket opens nothing", arguments: TestBackend.allCases)
    func secondFactor(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("doctor@acme.test", roles: ["doctor"])
                let clinic = try await node.clinic()
                try await node.test { client in
                    // Enrolled through the API, as the user would from their profile.
                    let login = try await client.execute(uri: "/api/v1/auth/login", method: .post, headers: [.contentType: "application/json"],
                                                         body: ByteBuffer(string: #"{"tenant":"acme","email":"doctor@acme.test","password":"\#(goodPassword)"}"#))
                    let access = try #require(login.json["access_token"] as? String)
                    let bearer: HTTPFields = [.authorization: "Bearer \(access)", .contentType: "application/json"]
                    let enrolment = try await client.execute(uri: "/api/v1/auth/totp/enrol", method: .post, headers: bearer)
                    let seed = try #require(enrolment.json["secret"] as? String)
                    let confirm = try await client.execute(uri: "/api/v1/auth/totp/confirm", method: .post, headers: bearer,
                                                           body: ByteBuffer(string: #"{"code":"\#(Authenticator.code(base32: seed))"}"#))
                    #expect(confirm.status == .ok)

                    let browser = Browser(client)
                    let asked = try await browser.signIn("doctor@acme.test")
                    #expect(asked.status == .ok)
                    #expect(asked.text.contains("Enter your code"))
                    #expect(browser.cookies["ward_session"] == nil, "the password alone opens no session")
                    let ticket = try #require(Browser.value(of: "ticket", in: asked.text))
                    let token = try #require(Browser.formToken(asked.text))

                    let next = Authenticator.code(base32: seed, offset: 1)
                    let wrong = try await browser.post("/app/sign-in/code", ["ticket": ticket, "code": next == "000000" ? "111111" : "000000"], token: token)
                    #expect(wrong.status == .unauthorized)
                    #expect(wrong.text.contains("That code was not accepted."))
                    #expect(browser.cookies["ward_session"] == nil)

                    var forged = Array(ticket)
                    forged[forged.count - 3] = forged[forged.count - 3] == "A" ? "B" : "A"
                    let tampered = try await browser.post("/app/sign-in/code", ["ticket": String(forged), "code": next], token: token)
                    #expect(tampered.status == .unauthorized)
                    #expect(browser.cookies["ward_session"] == nil)

                    let signedIn = try await browser.post("/app/sign-in/code", ["ticket": ticket, "code": next, "next": "/app/patients"], token: token)
                    #expect(signedIn.status == .seeOther)
                    #expect(signedIn.headers[.location] == "/app/patients")
                    #expect(browser.cookies["ward_session"] != nil)
                    #expect(try await browser.get("/app/patients").status == .ok)
                    // The ticket worked once: with the next code it opens nothing more.
                    let replay = Browser(client)
                    let form = try await replay.get("/app/sign-in")
                    let again = try await replay.post("/app/sign-in/code", ["ticket": ticket, "code": Authenticator.code(base32: seed, offset: 1)],
                                                      token: Browser.formToken(form.text))
                    #expect(again.status == .unauthorized)
                    #expect(again.text.contains("already completed"))
                    #expect(replay.cookies["ward_session"] == nil)

                    // A ticket is good for five minutes.
                    let later = Browser(client)
                    let second = try await later.signIn("doctor@acme.test")
                    clinic.clock.advance(by: .seconds(6 * 60))
                    let stale = try await later.post("/app/sign-in/code", ["ticket": try #require(Browser.value(of: "ticket", in: second.text)),
                                                                           "code": Authenticator.code(base32: seed, offset: 12)],
                                                     token: Browser.formToken(second.text))
                    #expect(stale.status == .unauthorized)
                    #expect(stale.text.contains("The sign-in took too long"))
                    #expect(later.cookies["ward_session"] == nil)
                }
            }
        }
    }

    @Test("the set-password link sets a password once; mismatched and weak passwords are explained", arguments: TestBackend.allCases)
    func setPassword(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                let id = try await node.user("nurse@acme.test", roles: ["nurse"], name: "Noor Haddad")
                let grant = try await node.services.identity.issuePasswordReset(for: id, in: try await node.tenant(), by: .system)
                try await node.test { client in
                    let browser = Browser(client)
                    // The link's token leaves the address at once: kept in a cookie of the page's path.
                    let link = try await browser.get("/app/set-password?token=\(grant.token)")
                    #expect(link.status == .seeOther && link.headers[.location] == "/app/set-password")
                    #expect(link.headers[values: .setCookie].contains { $0.hasPrefix("ward_reset=") && $0.contains("Path=/app/set-password") && $0.contains("HttpOnly") })
                    let page = try await browser.get("/app/set-password")
                    #expect(page.status == .ok)
                    #expect(Browser.value(of: "token", in: page.text) == grant.token)
                    #expect(page.headers[.cacheControl] == "no-store")
                    #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
                    let token = try #require(Browser.formToken(page.text))
                    let fresh = "amber-Quarry-lantern-92"

                    let mismatch = try await browser.post("/app/set-password", ["token": grant.token, "password": fresh, "repeat": fresh + "x"], token: token)
                    #expect(mismatch.status == .unprocessableContent)
                    #expect(mismatch.text.contains("Repeat the same password."))
                    let weak = try await browser.post("/app/set-password", ["token": grant.token, "password": "noor-haddad-2026", "repeat": "noor-haddad-2026"], token: token)
                    #expect(weak.status == .unprocessableContent)
                    #expect(weak.text.contains(#"id="field-password-error""#))
                    // A control character is refused before any rule (bcrypt would stop at a NUL).
                    let nul = try await browser.post("/app/set-password", ["token": grant.token, "password": "a\u{0}" + fresh, "repeat": "a\u{0}" + fresh], token: token)
                    #expect(nul.status == .unprocessableContent)

                    let set = try await browser.post("/app/set-password", ["token": grant.token, "password": fresh, "repeat": fresh], token: token)
                    #expect(set.status == .seeOther)
                    #expect(set.headers[.location] == "/app/sign-in?password_set=1")
                    #expect(try await browser.signIn("nurse@acme.test", password: fresh).status == .seeOther)

                    let again = Browser(client)
                    _ = try await again.get("/app/set-password?token=\(grant.token)")
                    let reuse = try await again.post("/app/set-password", ["token": grant.token, "password": fresh + "1", "repeat": fresh + "1"],
                                                     token: Browser.formToken(try await again.get("/app/set-password").text))
                    #expect(reuse.status == .unauthorized)
                    #expect(reuse.text.contains("This link has expired or was already used."))
                }
            }
        }
    }
}
