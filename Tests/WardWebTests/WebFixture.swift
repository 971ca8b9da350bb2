import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import WardAudit
import WardClinical
import WardStorage
import WardTestSupport

/// A strong password that passes every rule, shared by the fixtures' users.
let goodPassword = "correct-stable-fossil-lamp"

struct FixtureError: Error, CustomStringConvertible {
    let description: String
}

extension TestNode {
    /// Creates tenant `slug` (if needed) and a user holding `roles`; returns the user's id.
    @discardableResult
    func user(_ email: String, roles: [String], tenant slug: String = "acme", name: String = "Test User") async throws -> String {
        return try await services.identity.createUser(in: try await tenant(slug), email: email, name: name, password: goodPassword, roles: roles, by: .system).id
    }

    /// Tenant `slug`, created if it does not exist yet.
    func tenant(_ slug: String = "acme") async throws -> TenantScope {
        let tenants = services.storage.tenants
        if try await tenants.find(slug: slug) == nil { try await tenants.create(slug: slug, name: slug.capitalized) }
        return try await tenants.activeScope(slug: slug)
    }
}

/// A browser's side of the conversation, as far as the server can tell: cookies kept from
/// `Set-Cookie`, and forms posted with the token their page carried.
final class Browser: @unchecked Sendable {
    let client: any TestClientProtocol
    /// The cookies this browser holds (it is used by one test task at a time).
    var cookies: [String: String] = [:]

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    func get(_ path: String) async throws -> TestResponse {
        let response = try await client.execute(uri: path, method: .get, headers: headers(), body: nil)
        keep(response)
        return response
    }

    /// Posts `fields` as a form; `token` nil sends none.
    func post(_ path: String, _ fields: [String: String], token: String?) async throws -> TestResponse {
        var fields = fields
        if let token { fields["_csrf"] = token }
        var headers = headers()
        headers[.contentType] = "application/x-www-form-urlencoded"
        let body = fields.map { "\(Self.encode($0.key))=\(Self.encode($0.value))" }.joined(separator: "&")
        let response = try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
        keep(response)
        return response
    }

    /// Posts a form with a file (`multipart/form-data`), its fields in `fields`' order then the
    /// file; `token` nil sends none.
    func upload(_ path: String, _ fields: [(String, String)], file: (name: String, type: String, bytes: [UInt8])?, token: String?) async throws -> TestResponse {
        let boundary = "----ward-test-\(UUID().uuidString)"
        var body = ByteBuffer()
        for (name, value) in (token.map { [("_csrf", $0)] } ?? []) + fields {
            body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n")
        }
        if let file {
            body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(file.name)\"\r\nContent-Type: \(file.type)\r\n\r\n")
            body.writeBytes(file.bytes)
            body.writeString("\r\n")
        }
        body.writeString("--\(boundary)--\r\n")
        var headers = headers()
        headers[.contentType] = "multipart/form-data; boundary=\(boundary)"
        let response = try await client.execute(uri: path, method: .post, headers: headers, body: body)
        keep(response)
        return response
    }

    /// Signs in through the sign-in form; returns the form's answer.
    @discardableResult
    func signIn(_ email: String, clinic: String = "acme", password: String = goodPassword) async throws -> TestResponse {
        let page = try await get("/app/sign-in")
        return try await post("/app/sign-in", ["clinic": clinic, "email": email, "password": password, "next": "/app"], token: Self.formToken(page.text))
    }

    /// The form token a page carries (the first form's).
    static func formToken(_ html: String) -> String? {
        guard let range = html.range(of: #"name="_csrf" value=""#) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    /// What a browser would send for the page's form at `action`: its inputs' values and its
    /// selects' chosen options (values unescaped as far as these pages escape them).
    static func form(_ action: String, in html: String) -> [String: String] {
        guard let start = html.range(of: "action=\"\(action)\"") else { return [:] }
        let body = html[start.upperBound...].prefix { _ in true }
        let form = body[..<(body.range(of: "</form>")?.lowerBound ?? body.endIndex)]
        var fields: [String: String] = [:]
        for match in form.matches(of: /<input[^>]* name="([^"]+)"[^>]* value="([^"]*)"/) {
            fields[String(match.1)] = unescape(String(match.2))
        }
        for match in form.matches(of: /<select[^>]* name="([^"]+)"[^>]*>([\s\S]*?)<\/select>/) {
            fields[String(match.1)] = String(match.2).firstMatch(of: /<option value="([^"]*)" selected>/).map { unescape(String($0.1)) } ?? ""
        }
        return fields
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
    }

    static func value(of name: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    private func headers() -> HTTPFields {
        var headers = HTTPFields()
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        return headers
    }

    private func keep(_ response: TestResponse) {
        for field in response.headers where field.name == .setCookie {
            let pair = field.value.split(separator: ";", maxSplits: 1)[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pair[0]), value = pair.count > 1 ? String(pair[1]) : ""
            if value.isEmpty || field.value.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
        }
    }

    private static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// What a test reads and changes behind the pages' back: the clinic's services and scope,
/// and the node's clock.
struct Clinic: Sendable {
    let patients: PatientService
    let scheduling: SchedulingService
    let audit: AuditTrail
    let scope: TenantScope
    let clock: TestClock
}

extension TestNode {
    /// Tenant `slug`'s services (the tenant must exist).
    func clinic(_ slug: String = "acme") async throws -> Clinic {
        Clinic(patients: try patients, scheduling: try scheduling, audit: services.audit, scope: try await tenant(slug), clock: clock)
    }

    var patients: PatientService { get throws { try services.node.require(PatientService.self, by: "test") } }
    var scheduling: SchedulingService { get throws { try services.node.require(SchedulingService.self, by: "test") } }
    var prescribing: PrescribingService { get throws { try services.node.require(PrescribingService.self, by: "test") } }

    /// A patient of `slug`, registered by the system.
    func patient(_ given: String, _ family: String, tenant slug: String = "acme") async throws -> Patient {
        try await patients.create(PatientInput(givenName: given, familyName: family, birthDate: "1980-04-02"), in: try await tenant(slug), by: .system)
    }
}
