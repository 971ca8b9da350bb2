package import WardAudit
package import WardHTTP
package import WardIdentity
package import WardJobs
package import WardKit
import WardMail
package import WardStorage

/// The control plane as a module: its administrators' login, tenants provisioned, suspended,
/// resumed and purged through jobs, the provisioning log and the outbox of welcome emails.
/// Needs `IdentityService` and `Outbox` (registered before it) for tenants' first administrators.
package struct PlatformModule: WardModule {
    package static let name = "platform"
    package static var platformMigrations: [Migration] { PlatformModuleMigrations.platform }
    package static var operations: [APIOperation] { PlatformLoginController.operations + TenantsController.operations + OriginsController.operations }
    package static let permissions = [PermissionDefinition("tenant:configure", "set the clinic's allowed browser origins (CORS)")]
    package static let roleGrants: [BuiltInRole: Set<String>] = [.tenantAdmin: ["tenant:configure"]]

    package let lifecycle: TenantLifecycle
    package let origins: TenantOrigins
    package let metrics: ProvisioningMetrics
    let identity: IdentityService
    let node: ModuleNode

    /// Tests publish `ProvisioningFaults` on the node before it is built to fail chosen steps;
    /// a node never does.
    package init(node: ModuleNode) async throws {
        self.node = node
        identity = try node.require(IdentityService.self, by: Self.name)
        let outbox = try node.require(Outbox.self, by: Self.name)
        outbox.templates.register([PlatformMail.welcome, PlatformMail.provisioningFailed])
        metrics = ProvisioningMetrics(registry: node.metrics.registry)
        lifecycle = TenantLifecycle(
            storage: node.storage, identity: identity, audit: node.audit, queue: node.queue, outbox: outbox, settings: node.settings, metrics: metrics,
            seed: { [weak node] scope, actor in try await node?.seed(scope, by: actor) },
            purgeModules: { [weak node] tenant in try await node?.purge(tenant) },
            faults: try? node.require(ProvisioningFaults.self, by: Self.name), logger: node.logger
        )
        node.provide(lifecycle)
        origins = TenantOrigins(storage: node.storage, audit: node.audit)
        node.provide(origins)
        if node.settings.usesPostgres { node.provide(SharedQuotas(storage: node.storage)) }
        try await PlatformMail.importLegacyOutbox(storage: node.storage, outbox: outbox, settings: node.settings)
    }

    package func routes(_ routes: inout ModuleRoutes) {
        PlatformLoginController(identity: identity).routes(&routes)
        TenantsController(lifecycle: lifecycle).routes(&routes)
        OriginsController(origins: origins).routes(&routes)
    }

    package func jobs() -> [JobHandler] {
        [lifecycle.provisioningHandler(), lifecycle.purgeHandler()]
    }

    /// Tenants by state and the provisioning jobs waiting.
    package func refreshMetrics() async {
        let waiting = (try? await node.queueDepth())?.first { $0.kind == TenantLifecycle.provisionKind }?.waiting ?? 0
        await metrics.refresh(tenants: node.storage.tenants, waitingProvisioningJobs: waiting)
    }
}
