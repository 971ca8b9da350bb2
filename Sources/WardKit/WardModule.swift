package import Hummingbird
package import ServiceLifecycle
package import WardAudit
package import WardHTTP
package import WardJobs
package import WardStorage

/// A capability of Ward (identity, clinical care, billing, parking…) as the node assembles it.
/// A module declares what it brings (tables, permissions, operations and their schemas) and,
/// once built for a node, serves it: route handlers bound to its operations by name, jobs and
/// their schedules, a step in every tenant's provisioning, readiness checks and metrics.
///
/// The node iterates the registered modules (`WardModules.registered` in WardServer); nothing
/// in the centre names a module's routes, jobs or permissions. docs/architecture.md, "How to
/// add a module", walks through one.
package protocol WardModule: Sendable {
    /// The module's name, in snake case: logs, errors and the document's tags use it.
    static var name: String { get }
    /// The module's tenant migrations, in order, with versions in the module's own range.
    static var tenantMigrations: [Migration] { get }
    /// The module's control-plane migrations, likewise.
    static var platformMigrations: [Migration] { get }
    /// The permissions the module defines.
    static var permissions: [PermissionDefinition] { get }
    /// What each built-in role holds of those permissions (tenant_admin holds every one).
    static var roleGrants: [BuiltInRole: Set<String>] { get }
    /// The operations the module serves, each named uniquely in the API; the document's
    /// schemas are generated from the body types they name.
    static var operations: [APIOperation] { get }

    /// The module built for `node`. Services it offers other modules are published with
    /// `node.provide(_:)`; modules registered later find them with `node.require(_:)`.
    init(node: ModuleNode) async throws

    /// Binds a handler to each declared operation, by the operation's name.
    func routes(_ routes: inout ModuleRoutes)
    /// Adds the module's routes that are not API operations (the web app's pages and assets):
    /// they sit behind the edge like every route, but not in the API document. Each such route
    /// is the module's to guard.
    func pages(_ router: Router<WardRequestContext>)
    /// The job kinds the module runs.
    func jobs() -> [JobHandler]
    /// The cron schedules that queue its jobs.
    func schedules() throws -> [Schedule]
    /// Its part of a new tenant's provisioning (the `seed` step): idempotent, for it runs again
    /// after a crash or a failed attempt. The tenant's database is migrated already.
    func seed(_ scope: TenantScope, by actor: AuditActor) async throws
    /// Removes what the module keeps of a tenant outside the tenant's database (objects,
    /// keys, queued messages) once the tenant is purged: idempotent, for a failed purge runs
    /// again.
    func purge(_ tenant: Tenant) async throws
    /// What must hold for the node to serve this module, checked by `/health/ready`.
    func readinessChecks() -> [ReadinessCheck]
    /// Samples the module's gauges read from the databases, just before `/metrics` answers.
    func refreshMetrics() async
    /// The module's background loops, run by every node (whatever its role) in the node's
    /// service group: each ends its sleep on graceful shutdown and finishes its work first.
    func services() -> [any Service]
}

extension WardModule {
    package static var tenantMigrations: [Migration] { [] }
    package static var platformMigrations: [Migration] { [] }
    package static var permissions: [PermissionDefinition] { [] }
    package static var roleGrants: [BuiltInRole: Set<String>] { [:] }
    package static var operations: [APIOperation] { [] }
    package func routes(_ routes: inout ModuleRoutes) {}
    package func pages(_ router: Router<WardRequestContext>) {}
    package func jobs() -> [JobHandler] { [] }
    package func schedules() throws -> [Schedule] { [] }
    package func seed(_ scope: TenantScope, by actor: AuditActor) async throws {}
    package func purge(_ tenant: Tenant) async throws {}
    package func readinessChecks() -> [ReadinessCheck] { [] }
    package func refreshMetrics() async {}
    package func services() -> [any Service] { [] }
}

/// A check `/health/ready` runs: it throws (with a message an operator can act on) when the
/// node cannot serve.
package struct ReadinessCheck: Sendable {
    package let name: String
    package let check: @Sendable () async throws -> Void

    package init(_ name: String, _ check: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.check = check
    }
}
