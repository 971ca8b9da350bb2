import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing
import WardAudit
import WardCore
import WardHTTP
import WardIdentity
import WardKit
import WardPlatform
import WardServer
import WardStorage
import WardTestSupport

@Suite("A module added through the kit", .serialized)
struct ExampleModuleTests {
    @Test("the bed board plugs in with one registration: its table, permissions, routes, schemas, job, schedule, provisioning step, readiness and gauge all work",
          arguments: TestBackend.allCases)
    func bedBoard(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: fastJobs, modules: [BedBoardModule.self]) { node in
                let services = node.services
                // Provisioning runs every module's seed: the catalogue now holds beds:*, and the
                // board its admissions bed.
                try await services.lifecycle.provisionNow(.init(slug: "acme", name: "Acme"))
                let scope = try await services.storage.tenants.activeScope(slug: "acme")
                for (email, role) in [("nurse@acme.test", "nurse"), ("desk@acme.test", "receptionist"), ("doc@acme.test", "doctor")] {
                    _ = try await services.identity.createUser(in: scope, email: email, name: role, password: goodPassword, roles: [role], by: .system)
                }
                let roles = try await services.identity.roles(in: scope)
                #expect(roles.first { $0.name == "nurse" }?.permissions.contains("beds:write") == true)
                #expect(roles.first { $0.name == "tenant_admin" }?.permissions.contains("beds:read") == true)
                #expect(roles.first { $0.name == "doctor" }?.permissions.contains("beds:read") == false)

                // A tenant missing a grant (made before the module, say) gets it back when the node
                // migrates, even when it holds as many rows as the catalogue by other names.
                let grants = try scope.table("role_permissions"), permissionTable = try scope.table("permissions")
                try await scope.transaction { database in
                    try await database.raw("DELETE FROM \(grants) WHERE role_id = 'builtin-nurse' AND permission = 'beds:write'").run()
                    try await database.raw("INSERT INTO \(permissionTable) (name, description) VALUES ('legacy:thing', 'from an older build')").run()
                    try await database.raw("INSERT INTO \(grants) (role_id, permission) VALUES ('builtin-nurse', 'legacy:thing')").run()
                }
                try await WardApplication.migrate(services)
                #expect(try await services.identity.roles(in: scope).first { $0.name == "nurse" }?.permissions.contains("beds:write") == true)

                try await node.test { client in
                    let nurse = try await Self.token(client, "nurse@acme.test"), desk = try await Self.token(client, "desk@acme.test")
                    let doctor = try await Self.token(client, "doc@acme.test")

                    let seeded = try await client.call(.get, "/api/v1/beds", token: nurse)
                    #expect(seeded.status == .ok)
                    #expect((seeded.json["items"] as? [[String: Any]])?.map { $0["label"] as? String } == ["A1"])

                    let added = try await client.call(.post, "/api/v1/beds", token: nurse, json: ["ward": "Cardiology", "label": "C4"])
                    #expect(added.status == .created)
                    #expect(added.json["ward"] as? String == "Cardiology")
                    #expect(try await client.call(.post, "/api/v1/beds", token: nurse, json: ["ward": "Cardiology", "label": "C4"]).status == .conflict)
                    // The declared schema is the one enforced: an unknown field is refused, nothing saved.
                    let extra = try await client.call(.post, "/api/v1/beds", token: nurse, json: ["ward": "Cardiology", "label": "C5", "floor": 3])
                    #expect(extra.status == .unprocessableContent)
                    #expect(extra.headers[.contentType] == "application/problem+json")
                    // Permissions the module granted, and those it did not.
                    #expect(try await client.call(.get, "/api/v1/beds", token: desk).status == .ok)
                    #expect(try await client.call(.post, "/api/v1/beds", token: desk, json: ["ward": "ER", "label": "E1"]).status == .forbidden)
                    #expect(try await client.call(.get, "/api/v1/beds", token: doctor).status == .forbidden)
                    #expect(try await BedBoardModule.all(in: scope).map(\.label) == ["A1", "C4"])

                    // The document lists the operations with their permission and schemas.
                    let document = try #require(try JSONSerialization.jsonObject(with: Data(buffer: try await client.execute(uri: "/api/openapi.json", method: .get).body)) as? [String: Any])
                    let beds = (document["paths"] as? [String: Any])?["/api/v1/beds"] as? [String: Any]
                    #expect((beds?["post"] as? [String: Any])?["x-permission"] as? String == "beds:write")
                    #expect((beds?["post"] as? [String: Any])?["operationId"] as? String == "addBed")
                    #expect(((document["components"] as? [String: Any])?["schemas"] as? [String: Any])?["NewBed"] != nil)

                    // Readiness runs the module's check; metrics its gauge.
                    #expect(try await client.execute(uri: "/health/ready", method: .get).status == .ok)
                    BedBoardModule.outOfService.withLock { $0 = true }
                    let down = try await client.execute(uri: "/health/ready", method: .get)
                    BedBoardModule.outOfService.withLock { $0 = false }
                    #expect(down.status == .serviceUnavailable)
                    #expect(down.json["detail"] as? String == "Failed checks: bed_board.")
                    let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
                    #expect(metrics.contains("\nward_beds 2"))
                }

                // The audit trail recorded the bed added, as the module wrote it.
                let events = try await AuditStore.events(in: scope, filter: .init(), before: nil, limit: 50)
                #expect(events.contains { $0.action == "create" && $0.resourceType == "bed" })

                // Its schedule queues its job; the node's worker runs it.
                let scheduler = try NodeJobs.scheduler(services)
                let fired = try await scheduler.fire(at: try #require(ISO8601DateFormatter().date(from: "2030-01-02T06:01:00Z")))
                #expect(fired.map(\.kind).contains(BedBoardModule.censusKind))
                let census = try scope.table("bed_census")
                #expect(try await services.work {
                    try await scope.read { try await $0.raw("SELECT beds FROM \(census)").first()?.decode(column: "beds", as: Int.self) } == 2
                })
            }
        }
    }

    struct RedefinesPatientsRead: WardModule {
        static let name = "redefining"
        static let permissions = [PermissionDefinition("patients:read", "read patients, again")]
        init(node: ModuleNode) {}
    }
    struct GrantsUndefined: WardModule {
        static let name = "granting"
        static let roleGrants: [BuiltInRole: Set<String>] = [.nurse: ["beds:fly"]]
        init(node: ModuleNode) {}
    }
    struct ShadowsSchema: WardModule {
        /// Another type named as the clinical module's patient.
        struct Patient: Codable, APIResponseBody { let id: String }
        static let name = "shadowing"
        static let operations = [APIOperation("shadowPatient", .get, "/api/v1/shadow", summary: "a patient", tag: "test", access: .staff,
                                              success: (200, "application/json", Patient.self))]
        init(node: ModuleNode) {}
        func routes(_ routes: inout ModuleRoutes) { routes.on("shadowPatient") { _, _ in "shadow" } }
    }
    struct ShadowsOperation: WardModule {
        static let name = "shadowing_operation"
        static let operations = [APIOperation("readPatient", .get, "/api/v1/shadow/{id}", summary: "again", tag: "test", access: .staff)]
        init(node: ModuleNode) {}
        func routes(_ routes: inout ModuleRoutes) { routes.on("readPatient") { _, _ in "shadow" } }
    }

    @Test("modules that clash (a permission defined twice, a grant of none, a schema or operation named twice, a service needed before it is published) stop the node from being built")
    func clashes() async throws {
        #expect(throws: ModuleError.conflict("redefining defines the permission patients:read, which another module defines")) {
            try PermissionCatalogue(modules: WardModules.registered + [RedefinesPatientsRead.self])
        }
        #expect(throws: ModuleError.conflict("nurse is granted beds:fly, which no module defines")) {
            try PermissionCatalogue(modules: WardModules.registered + [GrantsUndefined.self])
        }
        try await withTestSite(.sqlite) { site in
            await #expect(throws: ModuleError.conflict("shadowing declares the schema Patient, which another type declares")) {
                try await TestNode.with(site, modules: [ShadowsSchema.self]) { _ in }
            }
            await #expect(throws: ModuleError.conflict("two modules declare the operation readPatient")) {
                try await TestNode.with(site, modules: [ShadowsOperation.self]) { _ in }
            }
            let settings = try site.settings([:])
            try await site.withStorage(platformMigrations: WardApplication.platformMigrations, tenantMigrations: WardApplication.tenantMigrations,
                                       settings: settings) { storage in
                await #expect(throws: ModuleError.missingService(module: "platform", service: "IdentityService")) {
                    _ = try await WardApplication.services(settings: settings, storage: storage, metrics: WardMetrics(), logger: TestLogs.quiet,
                                                           accessLog: AccessLog(level: .info), modules: [PlatformModule.self, IdentityModule.self])
                }
            }
        }
    }

    static func token(_ client: some TestClientProtocol, _ email: String) async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["tenant": "acme", "email": email, "password": goodPassword])
        let response = try await client.execute(uri: "/api/v1/auth/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body))
        return try #require(response.json["access_token"] as? String, "login of \(email): \(response.text)")
    }
}
