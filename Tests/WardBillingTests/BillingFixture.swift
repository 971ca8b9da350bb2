import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import WardServer
import WardTestSupport

let password = "correct-stable-fossil-lamp"

extension TestNode {
    /// Creates tenant `tenant` (if needed) and a user with `roles`.
    func staff(_ email: String, roles: [String], tenant: String = "acme") async throws {
        let tenants = services.storage.tenants
        if try await tenants.find(slug: tenant) == nil { try await tenants.create(slug: tenant, name: tenant.capitalized) }
        let scope = try await tenants.activeScope(slug: tenant)
        try await services.identity.seedCatalogue(in: scope)
        _ = try await services.identity.createUser(in: scope, email: email, name: "Staff \(email.prefix(while: { $0 != "@" }))", password: password,
                                                   roles: roles, by: .system)
    }

    /// A clinic with an administrator, a clerk, a receptionist and a nurse.
    func clinic(_ tenant: String = "acme") async throws {
        for (name, role) in [("admin", "tenant_admin"), ("clerk", "billing_clerk"), ("desk", "receptionist"), ("nurse", "nurse")] {
            try await staff("\(name)@\(tenant).test", roles: [role], tenant: tenant)
        }
    }
}

extension TestClientProtocol {
    func token(_ email: String, tenant: String = "acme") async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["tenant": tenant, "email": email, "password": password])
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

    func patient(_ token: String, _ given: String = "Ada", _ family: String = "Okafor", email: String? = nil) async throws -> String {
        var fields: [String: Any] = ["given_name": given, "family_name": family, "birth_date": "1980-02-01"]
        if let email { fields["email"] = email }
        let response = try await send(.post, "/api/v1/patients", token: token, json: fields)
        guard response.status == .created, let id = response.json["id"] as? String else { throw CocoaError(.coderInvalidValue) }
        return id
    }

    /// An issued invoice of `lines` for `patient`; its JSON.
    func issuedInvoice(_ token: String, patient: String, lines: [[String: Any]]) async throws -> [String: Any] {
        let draft = try await send(.post, "/api/v1/invoices", token: token, json: ["patient_id": patient, "lines": lines])
        guard draft.status == .created, let id = draft.json["id"] as? String else { throw CocoaError(.coderInvalidValue) }
        let issued = try await send(.post, "/api/v1/invoices/\(id)/issue", token: token)
        guard issued.status == .ok else { throw CocoaError(.coderInvalidValue) }
        return issued.json
    }

    /// Delivers a webhook payload to the clinic's endpoint with `signature`.
    func deliver(_ payload: Data, signature: String?, tenant: String = "acme") async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let signature { headers[HTTPField.Name("Stripe-Signature")!] = signature }
        return try await execute(uri: "/webhooks/stripe/\(tenant)", method: .post, headers: headers, body: ByteBuffer(bytes: payload))
    }
}

/// A Stripe event as Stripe sends it.
func stripeEvent(_ id: String, type: String, object: [String: Any], created: Int = Int(Date().timeIntervalSince1970)) throws -> Data {
    try JSONSerialization.data(withJSONObject: ["id": id, "object": "event", "type": type, "created": created, "livemode": false,
                                                "data": ["object": object]], options: [.sortedKeys])
}
