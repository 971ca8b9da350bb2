import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import WardAudit
import WardServer
import WardTestSupport

let password = "correct-stable-fossil-lamp"

extension TestNode {
    /// Creates tenant acme (if needed) and a user with `roles`; returns nothing.
    func staff(_ email: String, roles: [String], name: String = "Staff Member") async throws {
        let tenants = services.storage.tenants
        if try await tenants.find(slug: "acme") == nil { try await tenants.create(slug: "acme", name: "Acme") }
        let scope = try await tenants.activeScope(slug: "acme")
        _ = try await services.identity.createUser(in: scope, email: email, name: name, password: password, roles: roles, by: .system)
    }
}

extension TestClientProtocol {
    func token(_ email: String) async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["tenant": "acme", "email": email, "password": password])
        let response = try await execute(uri: "/api/v1/auth/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body))
        guard let token = response.json["access_token"] as? String else { throw CocoaError(.userCancelled) }
        return token
    }

    func send(_ method: HTTPRequest.Method, _ uri: String, token: String, json: Any? = nil, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        headers[.authorization] = "Bearer \(token)"
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        }
        return try await execute(uri: uri, method: method, headers: headers, body: body)
    }

    /// Registers a patient and returns its id.
    func patient(_ token: String, _ fields: [String: Any]) async throws -> String {
        let response = try await send(.post, "/api/v1/patients", token: token, json: fields)
        guard response.status == .created, let id = response.json["id"] as? String else {
            throw CocoaError(.coderInvalidValue, userInfo: ["response": response.text])
        }
        return id
    }
}
