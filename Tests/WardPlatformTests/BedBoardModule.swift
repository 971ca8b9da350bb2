import Foundation
import Hummingbird
import OpenAPIKit
import SQLKit
import Synchronization
import WardAudit
import WardCore
import WardHTTP
import WardJobs
import WardKit
import Prometheus
import WardStorage

/// The worked example of docs/architecture.md, "How to add a module": a ward's bed board, with
/// one table, two permissions, two operations, a job on a schedule, a provisioning step, a
/// readiness check and a gauge. `ExampleModuleTests` runs it end to end.
struct BedBoardModule: WardModule {
    static let name = "bed_board"
    static let read = "beds:read", write = "beds:write"
    static let censusKind = "beds.census"

    // 1. Tables: tenant migrations in the module's own version range.
    static let tenantMigrations = [
        Migration(9001, "create_beds", [
            "CREATE TABLE beds (id TEXT PRIMARY KEY, ward TEXT NOT NULL, label TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (ward, label))",
            "CREATE TABLE bed_census (counted_at TEXT PRIMARY KEY, beds INTEGER NOT NULL)",
        ]),
    ]

    // 2. Permissions, and what the built-in roles hold of them.
    static let permissions = [
        PermissionDefinition(read, "see the bed board"),
        PermissionDefinition(write, "add beds to the board"),
    ]
    static let roleGrants: [BuiltInRole: Set<String>] = [.nurse: [read, write], .receptionist: [read]]

    // 3. Operations, named; the permission declared here is the one enforced and documented.
    static let operations = [
        APIOperation("listBeds", .get, "/api/v1/beds", summary: "The beds on the board", tag: "beds", access: .staff, permission: read,
                     success: (200, "application/json", ItemList<Bed>.self), problems: [401, 403]),
        APIOperation("addBed", .post, "/api/v1/beds", summary: "Add a bed to the board", tag: "beds", access: .staff, permission: write,
                     success: (201, "application/json", Bed.self), problems: [401, 403, 409, 422], request: NewBed.self),
    ]

    static let label = TextField.singleLine(max: 40)

    // 4. The bodies' types: the document's schemas are generated from their Codable
    //    conformances, with the rules of fields a Swift type cannot state.
    struct Bed: Codable, Sendable, APIResponseBody { let id: String; let ward: String; let label: String }
    struct NewBed: APIRequestBody {
        let ward: String
        let label: String
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["ward": BedBoardModule.label.schema, "label": BedBoardModule.label.schema] }
    }
    struct BedTaken: Error, ProblemConvertible {
        var problem: Problem { Problem(status: 409, title: "Bed exists", detail: "That ward already has a bed with this label.") }
    }

    /// Set by a test to take the board out of service, which readiness must report.
    static let outOfService = Mutex(false)

    let node: ModuleNode
    let beds: Gauge

    // 5. Built once per node, from what the node offers.
    init(node: ModuleNode) {
        self.node = node
        beds = node.metrics.registry.makeGauge(name: "ward_beds")
    }

    // 6. Handlers, bound by name.
    func routes(_ routes: inout ModuleRoutes) {
        let audit = node.audit
        routes.on("listBeds") { _, context -> Response in
            let scope = try context.requireTenant()
            return try JSONResponse.make(ItemList(try await Self.all(in: scope)))
        }
        routes.on("addBed") { request, context -> Response in
            let body = try await request.decode(as: NewBed.self, context: context)
            let scope = try context.requireTenant(), bed = Bed(id: UUIDv7.id(), ward: body.ward, label: body.label)
            let table = try scope.table("beds")
            try await scope.transaction { database in
                guard try await database.select().column("id").from(table).where("ward", .equal, bed.ward).where("label", .equal, bed.label)
                    .first() == nil else { throw BedTaken() }
                try await database.insert(into: table).columns("id", "ward", "label", "created_at")
                    .values(SQLBind(bed.id), SQLBind(bed.ward), SQLBind(bed.label), SQLBind(Timestamp.now())).run()
                _ = try await audit.append(AuditActor(request, context).record("create", resourceType: "bed", resourceID: bed.id), in: database, scope: scope)
            }
            return try JSONResponse.make(bed, status: .created)
        }
    }

    // 7. Jobs, and the schedule that queues them.
    func jobs() -> [JobHandler] {
        let node = self.node
        return [
            JobHandler(kind: Self.censusKind, policy: RetryPolicy(node.settings.jobs)) { run in
                for tenant in try await node.liveTenants() {
                    let scope = try await node.storage.tenants.scope(for: tenant)
                    let count = try await Self.all(in: scope).count, census = try scope.table("bed_census")
                    try await scope.transaction { database in
                        try await database.insert(into: census).columns("counted_at", "beds")
                            .values(SQLBind(run.job.runAt), SQLBind(count)).run()
                    }
                }
            },
        ]
    }

    func schedules() throws -> [Schedule] {
        let attempts = node.settings.jobs.maxAttempts
        return [
            try Schedule(name: Self.censusKind, cron: "0 6 * * *", scope: .installation(.gmt)) { _, _ in
                try JobQueue.Request(kind: Self.censusKind, payload: NoPayload(), maxAttempts: attempts)
            },
        ]
    }

    // 8. Its part of every new tenant: the admissions bed, once however often it runs.
    func seed(_ scope: TenantScope, by actor: AuditActor) async throws {
        let table = try scope.table("beds")
        try await scope.transaction { database in
            try await database.raw("""
                INSERT INTO \(table) (id, ward, label, created_at) VALUES (\(bind: UUIDv7.id()), 'Admissions', 'A1', \(bind: Timestamp.now()))
                ON CONFLICT (ward, label) DO NOTHING
                """).run()
        }
    }

    // 9. Readiness and metrics.
    func readinessChecks() -> [ReadinessCheck] {
        [ReadinessCheck(Self.name) { if Self.outOfService.withLock({ $0 }) { throw CancellationError() } }]
    }

    func refreshMetrics() async {
        var total = 0
        for tenant in (try? await node.liveTenants()) ?? [] {
            if let scope = try? await node.storage.tenants.scope(for: tenant) { total += (try? await Self.all(in: scope).count) ?? 0 }
        }
        beds.set(Double(total))
    }

    static func all(in scope: TenantScope) async throws -> [Bed] {
        let table = try scope.table("beds")
        return try await scope.read { database in
            try await database.select().columns("id", "ward", "label").from(table).orderBy("ward").orderBy("label").all(decoding: Bed.self)
        }
    }
}
