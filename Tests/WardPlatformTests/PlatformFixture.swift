import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import WardCore
import WardIdentity
import WardJobs
import WardPlatform
import WardServer
import WardStorage
import WardTestSupport

let goodPassword = "correct-stable-fossil-lamp"

/// Settings that make workers quick in tests: short polls and retry delays, two attempts.
let fastJobs = [
    "WARD_JOBS_POLL_INTERVAL": "0.02", "WARD_JOBS_RETRY_DELAY": "0.05", "WARD_JOBS_MAX_ATTEMPTS": "2", "WARD_JOBS_LEASE": "30",
]

extension WardServices {
    /// A control-plane administrator's access token.
    func platformToken(_ client: any TestClientProtocol) async throws -> String {
        _ = try? await identity.createPlatformAdmin(email: "ops@ward.test", name: "Ops", password: goodPassword)
        let body = try JSONSerialization.data(withJSONObject: ["email": "ops@ward.test", "password": goodPassword])
        let response = try await client.execute(uri: "/platform/v1/auth/login", method: .post, headers: [.contentType: "application/json"],
                                                body: ByteBuffer(bytes: body))
        guard let token = response.json["access_token"] as? String else { throw FixtureError(description: "platform login: \(response.text)") }
        return token
    }

    /// Runs this node's job worker until `condition` holds; fails the test's expectation if not.
    @discardableResult
    /// Runs the worker until `condition` holds. The bound is generous: provisioning on
    /// PostgreSQL migrates a schema per attempt, and the parallel suite shares two cores.
    func work(until condition: @escaping @Sendable () async throws -> Bool) async throws -> Bool {
        try await runWorkers([NodeJobs.worker(self)], until: condition, timeout: .seconds(120))
    }

    /// Runs the worker until the tenant reaches `status` and its latest provisioning job has
    /// finished (so the job's own outcome is recorded too).
    @discardableResult
    func work(until slug: String, is status: Tenant.Status) async throws -> Bool {
        let tenants = storage.tenants, queue = self.queue
        return try await work {
            guard try await tenants.fetch(slug: slug)?.status == status else { return false }
            return try await queue.list(kind: TenantLifecycle.provisionKind, tenant: slug, limit: 1).first?.state.isFinished ?? true
        }
    }
}

extension TestClientProtocol {
    func call(_ method: HTTPRequest.Method, _ uri: String, token: String? = nil, tenant: String? = nil, json: [String: Any]? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let tenant { headers[HTTPField.Name("X-Tenant-ID")!] = tenant }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        }
        return try await execute(uri: uri, method: method, headers: headers, body: body)
    }

    func login(_ email: String, password: String = goodPassword, tenant: String) async throws -> TestResponse {
        try await call(.post, "/api/v1/auth/login", json: ["tenant": tenant, "email": email, "password": password])
    }
}

struct FixtureError: Error, CustomStringConvertible { let description: String }
