import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import WardAudit
import WardIdentity
import WardServer
import WardStorage
import WardTestSupport

/// A strong password that passes every rule, shared by the fixtures' users.
let goodPassword = "correct-stable-fossil-lamp"

extension TestNode {
    /// Creates tenant `slug` (if needed) and a user holding `roles`; returns the user's id.
    @discardableResult
    func user(_ email: String, roles: [String], tenant slug: String = "acme", name: String = "Test User") async throws -> String {
        let tenants = services.storage.tenants
        if try await tenants.find(slug: slug) == nil { try await tenants.create(slug: slug, name: slug.capitalized) }
        let scope = try await tenants.activeScope(slug: slug)
        return try await services.identity.createUser(in: scope, email: email, name: name, password: goodPassword, roles: roles, by: .system).id
    }
}

extension TestClientProtocol {
    /// Posts a login and returns the response.
    func login(_ email: String, password: String = goodPassword, tenant: String = "acme", headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "application/json"
        let body = try JSONSerialization.data(withJSONObject: ["tenant": tenant, "email": email, "password": password])
        return try await execute(uri: "/api/v1/auth/login", method: .post, headers: headers, body: ByteBuffer(bytes: body))
    }

    /// Logs in and returns the access and refresh tokens; fails the test on a non-200.
    func tokens(_ email: String, tenant: String = "acme") async throws -> (access: String, refresh: String) {
        let response = try await login(email, tenant: tenant)
        guard response.status == .ok, let access = response.json["access_token"] as? String,
              let refresh = response.json["refresh_token"] as? String else {
            throw FixtureError(description: "login of \(email) answered \(response.status): \(response.text)")
        }
        return (access, refresh)
    }

    /// Sends a request with a bearer token (and an optional JSON body).
    func call(_ method: HTTPRequest.Method, _ uri: String, token: String, json: [String: Any]? = nil, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        headers[.authorization] = "Bearer \(token)"
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        }
        return try await execute(uri: uri, method: method, headers: headers, body: body)
    }

    func refresh(_ token: String) async throws -> TestResponse {
        let body = try JSONSerialization.data(withJSONObject: ["refresh_token": token])
        return try await execute(uri: "/api/v1/auth/refresh", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body))
    }
}

struct FixtureError: Error, CustomStringConvertible { let description: String }
