package import Foundation
package import Hummingbird
package import Logging
package import NIOCore
package import WardCore
package import WardHTTP
package import WardIdentity
package import WardAudit
import WardClinical
package import WardJobs
package import WardPlatform
package import WardStorage

/// What a node is assembled from: settings, storage, metrics and loggers. Built once by the
/// executable (or a test) and handed to `buildApplication`.
package struct WardServices: Sendable {
    package let settings: WardSettings
    package let storage: Storage
    package let identity: IdentityService
    package let audit: AuditTrail
    package let metrics: WardMetrics
    /// The application's logger (errors, lifecycle).
    package let logger: Logger
    /// The one-line-per-request access log.
    package let accessLog: AccessLog
    /// The durable job queue in the control plane.
    package let queue: JobQueue
    package let jobMetrics: JobMetrics
    package let provisioningMetrics: ProvisioningMetrics
    /// Tenants' provisioning, suspension and deletion.
    package let lifecycle: TenantLifecycle

    package init(settings: WardSettings, storage: Storage, identity: IdentityService, metrics: WardMetrics, logger: Logger, accessLog: AccessLog,
                 provisioningFaults: ProvisioningFaults? = nil) {
        self.settings = settings
        self.storage = storage
        self.identity = identity
        self.audit = identity.audit
        self.metrics = metrics
        self.logger = logger
        self.accessLog = accessLog
        self.queue = JobQueue(storage: storage)
        self.jobMetrics = JobMetrics(registry: metrics.registry)
        self.provisioningMetrics = ProvisioningMetrics(registry: metrics.registry)
        self.lifecycle = TenantLifecycle(storage: storage, identity: identity, queue: queue, settings: settings, metrics: provisioningMetrics,
                                         faults: provisioningFaults, logger: logger)
    }
}

/// Ward's HTTP application: every route, behind the edge middleware.
package enum WardApplication {
    /// Every module's tenant migrations, in module order.
    package static let tenantMigrations: [Migration] = IdentityMigrations.all + AuditMigrations.all + ClinicalMigrations.all
    /// Every module's control-plane migrations, in module order.
    package static let platformMigrations: [Migration] = IdentityMigrations.platform + AuditMigrations.platform + JobMigrations.platform + PlatformModuleMigrations.platform

    /// Assembles a node's services from settings: storage (not yet migrated) and modules.
    package static func services(settings: WardSettings, metrics: WardMetrics, logger: Logger, accessLog: AccessLog) async throws -> WardServices {
        let storage = try await Storage(settings: settings, platformMigrations: platformMigrations, tenantMigrations: tenantMigrations, logger: logger)
        do {
            let identity = try await IdentityService(settings: settings, storage: storage, audit: AuditTrail(registry: metrics.registry, auditsReads: settings.auditReads, witness: AuditWitness(storage: storage)), logger: logger)
            return WardServices(settings: settings, storage: storage, identity: identity, metrics: metrics, logger: logger, accessLog: accessLog)
        } catch {
            await storage.shutdown()
            throw error
        }
    }

    /// Ward's version, reported in the OpenAPI document.
    package static let version = "0.1.0"

    /// Every operation the API offers, as the OpenAPI document lists them.
    package static var operations: [APIOperation] {
        HealthController.operations + MetricsController.operations + openAPIOperations + TenantController.operations
            + AuthController.operations + UserController.operations + PlatformController.operations + TenantsController.operations + AuditController.operations
            + ClinicalController.operations + PrescribingController.operations
    }

    static let openAPIOperations = [
        APIOperation(.get, "/api/openapi.json", summary: "This API's OpenAPI 3.1 document", tag: "operations"),
    ]

    /// The OpenAPI document as served, with passwords as `policy` (the node's) has them.
    package static func openAPIDocument(policy: PasswordPolicy = .standard) throws -> Data {
        try OpenAPIDocument.render(operations: operations, schemas: schemas(policy: policy), version: version)
    }

    /// Every controller's schemas, by name.
    package static func schemas(policy: PasswordPolicy = .standard) -> [String: Any] {
        var schemas: [String: Any] = [:]
        for part in [HealthController.schemas, TenantController.schemas, AuthController.schemas(policy: policy), UserController.schemas(policy: policy), PlatformController.schemas,
                     TenantsController.schemas, AuditController.schemas, ClinicalController.schemas, PrescribingController.schemas] {
            schemas.merge(part) { $1 }
        }
        return schemas
    }

    /// The router with every route and middleware. Tests may add routes before building the
    /// application from it.
    package static func buildRouter(_ services: WardServices) throws -> Router<WardRequestContext> {
        let router = Router(context: WardRequestContext.self)
        router.add(middleware: EdgeMiddleware(settings: services.settings, metrics: services.metrics, accessLog: services.accessLog,
                                             routes: RouteMethods(operations)))
        HealthController(storage: services.storage, checkTimeout: .seconds(3)).register(on: router)
        MetricsController(metrics: services.metrics, refresh: { await NodeJobs.refreshMetrics(services) }).register(on: router)
        let document = ByteBuffer(bytes: try openAPIDocument(policy: services.identity.policy))
        router.get("/api/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: document))
        }
        let naming = TenantNaming(baseDomain: services.settings.baseDomain)
        let api = router.group("/api/v1")
        // Public: which clinic a name resolves to, logging in and refreshing.
        TenantController().register(on: api.group().add(middleware: TenancyMiddleware(tenants: services.storage.tenants, naming: naming)))
        let authenticated = api.group().add(middleware: AuthenticationMiddleware(identity: services.identity, naming: naming))
        AuthController(identity: services.identity, naming: naming).register(public: api, authenticated: authenticated, prefix: "/api/v1")
        UserController(identity: services.identity).register(on: authenticated, prefix: "/api/v1")
        let auditController = AuditController(trail: services.audit, breakGlass: services.identity.breakGlass)
        auditController.register(on: authenticated, prefix: "/api/v1")
        auditController.registerBreakGlass(on: authenticated, prefix: "/api/v1")
        ClinicalController(patients: PatientService(audit: services.audit), scheduling: SchedulingService(audit: services.audit))
            .register(on: authenticated, prefix: "/api/v1")
        PrescribingController(prescribing: PrescribingService(audit: services.audit)).register(on: authenticated, prefix: "/api/v1")

        let platform = router.group("/platform/v1")
        let platformAdmins = platform.group().add(middleware: PlatformAuthenticationMiddleware(identity: services.identity))
        PlatformController(identity: services.identity).register(public: platform, prefix: "/platform/v1")
        TenantsController(lifecycle: services.lifecycle).register(on: platformAdmins, prefix: "/platform/v1")
        return router
    }

    /// The application serving `router` on the configured address; `onServerRunning` learns
    /// the bound channel (tests bind port 0 and read the port from it).
    package static func buildApplication(
        _ services: WardServices, router: Router<WardRequestContext>,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router,
            configuration: .init(
                address: .hostname(services.settings.httpHost, port: services.settings.httpPort),
                serverName: nil
            ),
            onServerRunning: onServerRunning,
            logger: services.logger
        )
    }
}
