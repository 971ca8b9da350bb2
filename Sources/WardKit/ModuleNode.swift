package import Logging
import Synchronization
package import WardAudit
package import WardCore
package import WardHTTP
package import WardJobs
package import WardStorage

/// What every module is built with: the node's settings, storage, audit trail, job queue,
/// metrics and logger, the permission catalogue, and the services earlier modules published.
package final class ModuleNode: Sendable {
    package let settings: WardSettings
    package let storage: Storage
    /// The audit trail every access to patient data is written to.
    package let audit: AuditTrail
    /// The durable job queue in the control plane.
    package let queue: JobQueue
    package let jobMetrics: JobMetrics
    package let metrics: WardMetrics
    package let logger: Logger
    package let catalogue: PermissionCatalogue
    /// How a request names its tenant (header or subdomain).
    package let naming: TenantNaming
    /// The time of day the node decides by (a `TestClock` in tests).
    package let clock: any WallClock
    private let services = Mutex<[ObjectIdentifier: any Sendable]>([:])
    private let modules = Mutex<[any WardModule]>([])
    private let kinds = Mutex<[String]>([])
    /// The queue's depth as read for the `/metrics` scrape in progress.
    private let depthSample = Mutex<[JobQueue.Depth]?>(nil)

    package init(
        settings: WardSettings, storage: Storage, audit: AuditTrail, metrics: WardMetrics, logger: Logger, catalogue: PermissionCatalogue,
        clock: any WallClock = SystemClock()
    ) {
        self.settings = settings
        self.storage = storage
        self.audit = audit
        self.clock = clock
        self.queue = JobQueue(storage: storage, clock: clock)
        self.jobMetrics = JobMetrics(registry: metrics.registry)
        self.metrics = metrics
        self.logger = logger
        self.catalogue = catalogue
        self.naming = TenantNaming(baseDomain: settings.baseDomain)
    }

    /// Publishes `service` to the modules built after this one.
    package func provide<Service: Sendable>(_ service: Service) {
        services.withLock { $0[ObjectIdentifier(Service.self)] = service }
    }

    /// The service of this type an earlier module published.
    package func require<Service: Sendable>(_ type: Service.Type, by module: String) throws -> Service {
        guard let service = services.withLock({ $0[ObjectIdentifier(type)] }) as? Service else {
            throw ModuleError.missingService(module: module, service: String(describing: type))
        }
        return service
    }

    /// Every module built for this node, in registration order.
    package var built: [any WardModule] { modules.withLock { $0 } }

    /// Builds `types` in order for this node.
    package func build(_ types: [any WardModule.Type]) async throws {
        for type in types {
            let module = try await type.init(node: self)
            modules.withLock { $0.append(module) }
        }
        let kinds = built.flatMap { $0.jobs().map(\.kind) }
        self.kinds.withLock { $0 = kinds }
    }

    /// Every job kind the built modules run.
    package var jobKinds: [String] { kinds.withLock { $0 } }

    /// Samples every module's gauges for a scrape of `/metrics`.
    package func refreshMetrics() async {
        depthSample.withLock { $0 = nil }
        for module in built { await module.refreshMetrics() }
        depthSample.withLock { $0 = nil }
    }

    /// The queue's depth by kind: read once per scrape, however many modules' gauges use it.
    package func queueDepth() async throws -> [JobQueue.Depth] {
        if let sample = depthSample.withLock({ $0 }) { return sample }
        let depth = try await queue.depth()
        depthSample.withLock { $0 = depth }
        return depth
    }

    /// Runs every module's purge of a tenant, in registration order.
    package func purge(_ tenant: Tenant) async throws {
        for module in built { try await module.purge(tenant) }
    }

    /// Runs every module's provisioning seed for a new tenant, in registration order.
    package func seed(_ scope: TenantScope, by actor: AuditActor) async throws {
        for module in built { try await module.seed(scope, by: actor) }
    }
}

extension ModuleNode {
    /// Tenants whose database is in use (active or suspended): the ones a module's periodic
    /// work walks.
    package func liveTenants() async throws -> [Tenant] {
        try await storage.tenants.list().filter { [.active, .suspended].contains($0.status) }
    }
}

/// The payload of a job that needs none.
package struct NoPayload: Codable, Sendable {
    package init() {}
}
