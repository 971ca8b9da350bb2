import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardJobs
import WardMail
import WardServer
import WardTestSupport

/// Emails a clinic's users receive (password reset) and the clinic's own wording of its emails,
/// through the API and a real SMTP server.
@Suite("Password reset email and the clinic's wording")
struct MailWordingTests {
    static let password = "correct-stable-fossil-lamp"

    static func settings(_ extra: [String: String] = [:]) async throws -> [String: String] {
        let sink = try await MailSink.shared()
        return ["WARD_SMTP_URL": sink.url, "WARD_SMTP_CA_FILE": sink.certificate, "WARD_EMAIL_FROM": "Acme <clinic@acme.example>",
                "WARD_JOBS_POLL_INTERVAL": "0.02", "WARD_BASE_DOMAIN": "ward.test"].merging(extra) { $1 }
    }

    static func staff(_ node: TestNode, _ email: String, roles: [String]) async throws {
        let tenants = node.services.storage.tenants
        if try await tenants.find(slug: "acme") == nil { try await tenants.create(slug: "acme", name: "Acme") }
        _ = try await node.services.identity.createUser(in: try await tenants.activeScope(slug: "acme"), email: email, name: "Staff Member",
                                                        password: password, roles: roles, by: .system)
    }

    @Test("a forgotten password: a link by email for an account, the same 202 and no email for an unknown address, throttled; the link works once",
          arguments: TestBackend.allCases)
    func forgotPassword(_ backend: TestBackend) async throws {
        let sink = try await MailSink.shared()
        let email = "nurse-\(UUID().uuidString.prefix(8))@acme.test"
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: try await Self.settings(["WARD_AUTH_LOGIN_RATE": "3"])) { node in
                try await Self.staff(node, email, roles: ["nurse"])
                let services = node.services
                try await node.test { client in
                    func ask(_ address: String) async throws -> TestResponse {
                        try await client.execute(uri: "/api/v1/auth/password-reset-request", method: .post, headers: [.contentType: "application/json"],
                                                 body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: ["tenant": "acme", "email": address])))
                    }
                    #expect(try await ask(email.uppercased()).status == .accepted)
                    #expect(try await ask("nobody@acme.test").status == .accepted)
                    try await runWorkers([NodeJobs.worker(services)], until: { !sink.messages(to: email).isEmpty })
                    let mail = try await ReceivedMail.read(try #require(sink.messages(to: email).first))
                    #expect(mail.headers["Subject"] == "Reset your Ward password for Acme")
                    let link = try #require(mail.text(of: "text/plain")?.firstMatch(of: /https:\/\/acme\.ward\.test\/app\/set-password\?token=(\S+)/))
                    #expect(sink.messages(to: "nobody@acme.test").isEmpty)

                    let reset = { (token: String, password: String) async throws -> HTTPResponse.Status in
                        try await client.execute(uri: "/api/v1/auth/password-reset", method: .post, headers: [.contentType: "application/json"],
                                                 body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: ["token": token, "password": password]))).status
                    }
                    #expect(try await reset(String(link.1), "a-brand-new-passphrase") == .noContent)
                    #expect(try await reset(String(link.1), "another-new-passphrase") == .unauthorized)
                    // A second request within ten minutes sends no second link; the fourth from this address is throttled.
                    #expect(try await ask(email).status == .accepted)
                    #expect(try await ask(email).status == .tooManyRequests)
                }
            }
        }
    }

    @Test("a reset an administrator issues is mailed to the user too")
    func issuedReset() async throws {
        let sink = try await MailSink.shared()
        let email = "doctor-\(UUID().uuidString.prefix(8))@acme.test"
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: try await Self.settings()) { node in
                try await Self.staff(node, "admin@acme.test", roles: ["tenant_admin"])
                try await Self.staff(node, email, roles: ["doctor"])
                let services = node.services
                let scope = try await services.storage.tenants.activeScope(slug: "acme")
                let user = try #require(try await services.identity.users(in: scope).first { $0.email == email })
                try await node.test { client in
                    let admin = try await client.token("admin@acme.test")
                    let issued = try await client.call(.post, "/api/v1/users/\(user.id)/password-reset", token: admin)
                    #expect(issued.status == .created)
                    let token = try #require(issued.json["token"] as? String)
                    try await runWorkers([NodeJobs.worker(services)], until: { !sink.messages(to: email).isEmpty })
                    let mail = try await ReceivedMail.read(try #require(sink.messages(to: email).first))
                    #expect(mail.text(of: "text/plain")?.contains("token=\(token)") == true)
                }
            }
        }
    }

    @Test("a clinic words an email its own way: checked when saved, previewed, used when sent, and reset; only administrators may", arguments: TestBackend.allCases)
    func wording(_ backend: TestBackend) async throws {
        let sink = try await MailSink.shared()
        let email = "desk-\(UUID().uuidString.prefix(8))@acme.test"
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: try await Self.settings()) { node in
                try await Self.staff(node, "admin@acme.test", roles: ["tenant_admin"])
                try await Self.staff(node, email, roles: ["receptionist"])
                let services = node.services
                try await node.test { client in
                    let admin = try await client.token("admin@acme.test")
                    let desk = try await client.token(email)
                    #expect(try await client.call(.get, "/api/v1/mail/templates", token: desk).status == .forbidden)

                    let listed = try #require(try await client.call(.get, "/api/v1/mail/templates", token: admin).json["items"] as? [[String: Any]])
                    #expect(Set(listed.compactMap { $0["name"] as? String }).isSuperset(of: ["welcome", "password_reset", "prescription", "daily_report",
                                                                                              "appointment_confirmation", "appointment_reminder"]))
                    #expect(listed.allSatisfy { $0["customized"] as? Bool == false })

                    let broken = try await client.call(.put, "/api/v1/mail/templates/password_reset", token: admin,
                                                       json: ["subject": "Reset", "text": "Hi {{name}", "html": "<p>{{#x}}</p>"])
                    #expect(broken.status == .unprocessableContent)
                    #expect(Set((broken.json["errors"] as? [[String: Any]])?.compactMap { $0["field"] as? String } ?? []) == ["text", "html"])
                    #expect(try await client.call(.put, "/api/v1/mail/templates/no_such_email", token: admin,
                                                  json: ["subject": "a", "text": "b", "html": "c"]).status == .notFound)

                    let wording = ["subject": "{{clinic}}: new password for {{name}}", "text": "Dear {{name}},\nfollow {{link}}", "html": "<p>Dear {{name}}</p>"]
                    let saved = try await client.call(.put, "/api/v1/mail/templates/password_reset", token: admin, json: wording)
                    #expect(saved.status == .ok && saved.json["customized"] as? Bool == true)
                    let preview = try await client.call(.post, "/api/v1/mail/templates/password_reset/preview", token: admin, json: [:])
                    #expect(preview.json["subject"] as? String == "North Clinic: new password for Dana Doctor")
                    let draft = try await client.call(.post, "/api/v1/mail/templates/password_reset/preview", token: admin,
                                                      json: ["html": "<p>{{name}} & <b>{{clinic}}</b></p>"])
                    #expect(draft.json["html"] as? String == "<p>Dana Doctor & <b>North Clinic</b></p>")

                    // The next reset email speaks the clinic's words.
                    let user = try #require(try await services.identity.users(in: try await services.storage.tenants.activeScope(slug: "acme"))
                        .first { $0.email == email })
                    #expect(try await client.call(.post, "/api/v1/users/\(user.id)/password-reset", token: admin).status == .created)
                    let outbox = try services.node.require(Outbox.self, by: "test")
                    try await runWorkers([NodeJobs.worker(services)], until: { try await outbox.mail(tenant: "acme").contains { $0.status == .sent } })
                    let mail = try await ReceivedMail.read(try #require(sink.messages(to: email).first))
                    #expect(mail.headers["Subject"] == "Acme: new password for Staff Member")
                    #expect(mail.text(of: "text/plain")?.hasPrefix("Dear Staff Member,") == true)

                    let sent = try #require(try await client.call(.get, "/api/v1/mail", token: admin).json["items"] as? [[String: Any]])
                    #expect(sent.contains { $0["template"] as? String == "password_reset" && $0["status"] as? String == "sent" })

                    #expect(try await client.call(.delete, "/api/v1/mail/templates/password_reset", token: admin).status == .noContent)
                    let again = try await client.call(.post, "/api/v1/mail/templates/password_reset/preview", token: admin, json: [:])
                    #expect(again.json["subject"] as? String == "Reset your Ward password for North Clinic")
                }
            }
        }
    }
}

extension TestClientProtocol {
    func token(_ email: String) async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["tenant": "acme", "email": email, "password": MailWordingTests.password])
        let response = try await execute(uri: "/api/v1/auth/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body))
        return try #require(response.json["access_token"] as? String, "login of \(email): \(response.text)")
    }

    func call(_ method: HTTPRequest.Method, _ uri: String, token: String, json: [String: Any]? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.authorization: "Bearer \(token)"]
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        }
        return try await execute(uri: uri, method: method, headers: headers, body: body)
    }
}
