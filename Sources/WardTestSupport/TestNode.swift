import Foundation
package import Hummingbird
package import HummingbirdTesting
import Logging
import NIOCore
package import ServiceLifecycle
package import WardCore
package import WardHTTP
package import WardKit
import WardIdentity
import WardAudit
package import WardServer
package import WardPlatform
package import WardStorage

/// A Ward node assembled for a test: real storage on the test site, a private metrics
/// registry, and loggers whose lines the test can read.
package struct TestNode {
    package let services: WardServices
    package let logs: CapturingSink
    package let router: Router<WardRequestContext>
    /// The node's OpenAPI document, which every response a test receives is held to.
    package let contract: ResponseContract
    /// The node's clock: a test moves it forward instead of waiting for time to pass.
    package let clock: TestClock

    /// Builds a node on `site` (settings overridden by `extra`), runs `body`, closes storage.
    package static func with(
        _ site: TestSite, settings extra: [String: String] = [:], tenantMigrations: [Migration] = [],
        modules extraModules: [any WardModule.Type] = [], provisioningFaults: ProvisioningFaults? = nil, _ body: (TestNode) async throws -> Void
    ) async throws {
        let settings = try site.settings(extra)
        let modules = WardModules.registered + extraModules
        try await site.withStorage(
            platformMigrations: modules.flatMap { $0.platformMigrations },
            tenantMigrations: modules.flatMap { $0.tenantMigrations } + tenantMigrations, settings: settings
        ) { storage in
            let logs = CapturingSink(), clock = TestClock()
            let services = try await TestServices.make(settings: settings, storage: storage, logs: logs, modules: modules,
                                                       provisioningFaults: provisioningFaults, clock: clock)
            // As a node's audit journal mover does first on start.
            await services.audit.moveJournal(everything: true, tenants: storage.tenants)
            let router = try WardApplication.buildRouter(services)
            TestRoutes.add(to: router)
            let contract = try ResponseContract(document: try WardApplication.openAPIDocument(services))
            try await body(TestNode(services: services, logs: logs, router: router, contract: contract, clock: clock))
        }
    }

    /// Runs `body` with an in-process client of this node; every response it receives is
    /// held to the OpenAPI document (`ResponseContract`).
    package func test(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = WardApplication.buildApplication(services, router: router)
        let contract = self.contract
        try await app.test(.router) { client in try await body(DocumentedClient(client, contract: contract)) }
    }

    /// The access-log lines written so far, parsed.
    package var accessLines: [[String: Any]] {
        logs.lines.compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["logger"] as? String == "ward.access" else { return nil }
            return object
        }
    }
}

/// A node's services over storage a test opened, with loggers writing into `logs`.
package enum TestServices {
    package static func make(settings: WardSettings, storage: Storage, logs: CapturingSink = CapturingSink(),
                             modules: [any WardModule.Type] = WardModules.registered,
                             provisioningFaults: ProvisioningFaults? = nil, clock: any WallClock = SystemClock()) async throws -> WardServices {
        try await WardApplication.services(
            settings: settings, storage: storage, metrics: WardMetrics(), logger: TestLogs.capturing(logs, label: "ward"),
            accessLog: AccessLog(level: .info, sink: logs), modules: modules, clock: clock
        ) { node in
            if let provisioningFaults { node.provide(provisioningFaults) }
        }
    }
}

/// Routes that exist only in tests, to reach the edge's paths no production route takes yet.
package enum TestRoutes {
    struct Greeting: ResponseCodable { let name: String }
    struct LeakyError: Error, CustomStringConvertible {
        var description: String { "SELECT secret FROM patients WHERE path = '/var/lib/ward/secret.key'" }
    }

    package static func add(to router: Router<WardRequestContext>) {
        router.post("/test/echo") { request, context in
            try await request.decode(as: Greeting.self, context: context)
        }
        router.get("/test/slow") { request, _ in
            let milliseconds = request.uri.queryParameters.get("ms", as: Int.self) ?? 500
            try await Task.sleep(for: .milliseconds(milliseconds))
            return "done"
        }
        router.get("/test/fail") { _, _ -> String in throw LeakyError() }
        router.get("/test/items/{id}") { _, context in context.parameters.get("id") ?? "" }
    }
}

extension TestResponse {
    /// The body as a JSON object.
    package var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }

    package var text: String { String(buffer: body) }
}

extension TestNode {
    /// Runs the node as a real server on a loopback port for `body`, then shuts it down
    /// gracefully. `body` gets the port and the service group (to trigger shutdown itself).
    package func live(_ body: (Int, ServiceGroup) async throws -> Void) async throws {
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = WardApplication.buildApplication(services, router: router) { channel in
            portSink.yield(channel.localAddress?.port ?? 0)
        }
        var configuration = ServiceGroupConfiguration(services: [app], logger: TestLogs.quiet)
        configuration.maximumGracefulShutdownDuration = .seconds(10)
        let group = ServiceGroup(configuration: configuration)
        let running = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        do {
            try await body(port, group)
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            throw error
        }
        await group.triggerGracefulShutdown()
        try await running.value
    }
}

/// HTTP/1.1 over a plain socket, for requests a test client will not send as written (a
/// chosen Host header).
package enum RawHTTP {
    /// Sends `GET path` with `Host: host` to 127.0.0.1:`port` from a thread of its own (the
    /// socket blocks; the server answering it may need the cooperative pool); returns the
    /// status and body.
    package static func get(port: Int, path: String, host: String) async throws -> (status: Int, body: String) {
        try await offThePool { try getBlocking(port: port, path: path, host: host) }
    }

    /// `get`, blocking the calling thread: for threads of a test's own.
    package static func getBlocking(port: Int, path: String, host: String) throws -> (status: Int, body: String) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        let request = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n"
        _ = request.withCString { send(descriptor, $0, strlen($0), 0) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        let text = String(decoding: received, as: UTF8.self)
        let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
        let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        return (status, body)
    }
}
