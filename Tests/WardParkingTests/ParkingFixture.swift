import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import WardParking
import WardServer
import WardStorage
import WardTestSupport

let password = "correct-stable-fossil-lamp"

extension TestNode {
    /// A clinic with an administrator, an attendant, a receptionist, a nurse and a clerk.
    func clinic(_ tenant: String = "acme") async throws {
        let tenants = services.storage.tenants
        if try await tenants.find(slug: tenant) == nil { try await tenants.create(slug: tenant, name: tenant.capitalized) }
        let scope = try await tenants.activeScope(slug: tenant)
        try await services.identity.seedCatalogue(in: scope)
        for (name, role) in [("admin", "tenant_admin"), ("attendant", "parking_attendant"), ("desk", "receptionist"), ("nurse", "nurse"), ("clerk", "billing_clerk")] {
            _ = try await services.identity.createUser(in: scope, email: "\(name)@\(tenant).test", name: "Staff \(name)", password: password, roles: [role], by: .system)
        }
    }
}

extension TestNode {
    /// The node's parking service and clinic `tenant`'s scope, for what a test does at the
    /// gate's own clock.
    func parking(_ tenant: String = "acme") async throws -> (ParkingService, TenantScope) {
        (try services.node.require(ParkingService.self, by: "test"), try await services.storage.tenants.activeScope(slug: tenant))
    }
}

extension TestClientProtocol {
    func token(_ email: String, tenant: String = "acme") async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["tenant": tenant, "email": email, "password": password])
        let response = try await execute(uri: "/api/v1/auth/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body))
        guard let token = response.json["access_token"] as? String else { throw CocoaError(.userCancelled) }
        return token
    }

    func send(_ method: HTTPRequest.Method, _ uri: String, token: String, json: Any? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.authorization: "Bearer \(token)"]
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        }
        return try await execute(uri: uri, method: method, headers: headers, body: body)
    }

    /// POSTs `json` and returns the new object's id.
    func create(_ uri: String, token: String, _ json: [String: Any]) async throws -> String {
        let response = try await send(.post, uri, token: token, json: json)
        guard response.status == .created, let id = response.json["id"] as? String else {
            throw CocoaError(.coderInvalidValue, userInfo: ["response": response.text])
        }
        return id
    }
}

/// An RFC 3339 time `hours` from now, on a whole minute.
func later(hours: Double) -> String {
    let date = Date(timeIntervalSince1970: ((Date().timeIntervalSince1970 + hours * 3600) / 60).rounded(.down) * 60)
    return ISO8601DateFormatter().string(from: date)
}
