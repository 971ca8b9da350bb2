import Crypto
import Testing
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import WardAudit
import WardServer
import WardTestSupport

let password = "correct-stable-fossil-lamp"

/// Where a test node keeps its documents.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible {
    case file, s3
    var testDescription: String { rawValue }

    /// The node's settings for this store, under a prefix of the shared bucket of its own.
    func settings(_ extra: [String: String] = [:]) async throws -> [String: String] {
        switch self {
        case .file: return extra
        case .s3: return try await S3Server.shared().settings(prefix: "run-\(UUID().uuidString.prefix(8).lowercased())").merging(extra) { $1 }
        }
    }
}

extension TestNode {
    /// Creates tenant `tenant` (if needed) and a user with `roles`.
    func staff(_ email: String, roles: [String], tenant: String = "acme") async throws {
        let tenants = services.storage.tenants
        if try await tenants.find(slug: tenant) == nil { try await tenants.create(slug: tenant, name: tenant.capitalized) }
        let scope = try await tenants.activeScope(slug: tenant)
        // As provisioning and start-up do: the built-in roles get the documents permissions.
        try await services.identity.seedCatalogue(in: scope)
        _ = try await services.identity.createUser(in: scope, email: email, name: "Staff \(email.prefix(while: { $0 != "@" }))", password: password,
                                                   roles: roles, by: .system)
    }

    func tenantID(_ slug: String = "acme") async throws -> String {
        try await services.storage.tenants.activeScope(slug: slug).tenant.id
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

    func patient(_ token: String, _ given: String = "Ada", _ family: String = "Okafor") async throws -> String {
        let response = try await send(.post, "/api/v1/patients", token: token, json: ["given_name": given, "family_name": family, "birth_date": "1980-02-01"])
        guard response.status == .created, let id = response.json["id"] as? String else { throw CocoaError(.coderInvalidValue) }
        return id
    }

    /// Uploads `bytes` as `type` into the patient's documents.
    func upload(_ bytes: [UInt8], type: String, patient: String, token: String, title: String = "Blood panel", category: String = "lab_result",
                extra: String = "") async throws -> TestResponse {
        let title = title.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? title
        return try await execute(uri: "/api/v1/patients/\(patient)/documents?title=\(title)&category=\(category)\(extra)", method: .post,
                                 headers: [.authorization: "Bearer \(token)", .contentType: type], body: ByteBuffer(bytes: bytes))
    }
}

/// Test files whose first bytes are those of their type, the rest random.
enum Sample {
    static func pdf(_ size: Int) -> [UInt8] { Array("%PDF-1.7\n%âãÏÓ\n".utf8) + random(size - 17) }
    static func png(_ size: Int) -> [UInt8] { [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + random(size - 8) }
    static func jpeg(_ size: Int) -> [UInt8] { [0xFF, 0xD8, 0xFF, 0xE0] + random(size - 4) }
    static func tiff(_ size: Int) -> [UInt8] { [0x49, 0x49, 0x2A, 0x00] + random(size - 4) }
    static func dicom(_ size: Int) -> [UInt8] { [UInt8](repeating: 0, count: 128) + Array("DICM".utf8) + random(size - 132) }
    static func text(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func random(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<max(0, count)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func sha256(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }
}
