package import Foundation
package import Hummingbird
package import Logging
package import NIOCore
package import WardAudit
package import WardCore
package import WardHTTP
package import WardIdentity
package import WardJobs
package import WardKit
package import WardPlatform
package import WardStorage

/// What a node is assembled from: the modules built over one `ModuleNode` (settings, storage,
/// the audit trail, the job queue, metrics), and the access log. Built once by the executable
/// (or a test) and handed to `buildRouter`.
package struct WardServices: Sendable {
    package let node: ModuleNode
    /// The one-line-per-request access log.
    package let accessLog: AccessLog
    package let identity: IdentityService
    /// Tenants' provisioning, suspension and deletion.
    package let lifecycle: TenantLifecycle
    /// Every caller's use of the rate-limit policies (address, user, session, platform, route classes), on the node's clock.
    package let rateLimiter: RateLimiter

    package init(node: ModuleNode, accessLog: AccessLog) throws {
        self.node = node
        self.accessLog = accessLog
        self.identity = try node.require(IdentityService.self, by: "the node")
        self.lifecycle = try node.require(TenantLifecycle.self, by: "the node")
        let clock = node.clock
        // Nodes on one PostgreSQL share their quotas; on SQLite the one node's are exact.
        self.rateLimiter = RateLimiter(policies: node.settings.rateLimits, registry: node.metrics.registry,
                                       ledger: try? node.require(SharedQuotas.self, by: "the edge"), clock: { clock.now.timeIntervalSince1970 })
    }

    package var settings: WardSettings { node.settings }
    package var storage: Storage { node.storage }
    package var audit: AuditTrail { node.audit }
    package var metrics: WardMetrics { node.metrics }
    /// The application's logger (errors, lifecycle).
    package var logger: Logger { node.logger }
    /// The durable job queue in the control plane.
    package var queue: JobQueue { node.queue }
    package var jobMetrics: JobMetrics { node.jobMetrics }
    package var modules: [any WardModule] { node.built }
}

/// Ward's HTTP application: every module's routes, behind the edge middleware.
package enum WardApplication {
    /// Every module's tenant migrations, in module order.
    package static var tenantMigrations: [Migration] { WardModules.registered.flatMap { $0.tenantMigrations } }
    /// Every module's control-plane migrations, in module order.
    package static var platformMigrations: [Migration] { WardModules.registered.flatMap { $0.platformMigrations } }

    /// Assembles a node's services from settings: storage (not yet migrated) and the modules.
    package static func services(settings: WardSettings, metrics: WardMetrics, logger: Logger, accessLog: AccessLog) async throws -> WardServices {
        let storage = try await Storage(settings: settings, platformMigrations: platformMigrations, tenantMigrations: tenantMigrations, logger: logger)
        do {
            return try await services(settings: settings, storage: storage, metrics: metrics, logger: logger, accessLog: accessLog)
        } catch {
            await storage.shutdown()
            throw error
        }
    }

    /// Builds `modules` over storage already opened. `prepare` sees the node before its
    /// modules are built (tests publish services there).
    package static func services(
        settings: WardSettings, storage: Storage, metrics: WardMetrics, logger: Logger, accessLog: AccessLog,
        modules: [any WardModule.Type] = WardModules.registered, clock: any WallClock = SystemClock(),
        prepare: (ModuleNode) -> Void = { _ in }
    ) async throws -> WardServices {
        let audit = AuditTrail(registry: metrics.registry, auditsReads: settings.auditReads, witness: AuditWitness(storage: storage),
                               journal: AuditJournal(storage: storage), directReads: settings.auditDirectReads)
        let node = ModuleNode(settings: settings, storage: storage, audit: audit, metrics: metrics, logger: logger,
                              catalogue: try PermissionCatalogue(modules: modules), clock: clock)
        prepare(node)
        try await node.build(modules)
        return try WardServices(node: node, accessLog: accessLog)
    }

    /// Brings the control plane and every tenant up to date: migrations, then the permission
    /// catalogue (a module added since a tenant was made brings its permissions and built-in
    /// grants; a tenant already holding them costs one read). Returns the migrations run.
    @discardableResult
    package static func migrate(_ services: WardServices) async throws -> [(target: String, applied: [Migration])] {
        let report = try await services.storage.migrateAll()
        for tenant in try await services.node.liveTenants() {
            try await services.identity.seedCatalogue(in: try await services.storage.tenants.scope(for: tenant))
        }
        return report
    }

    /// Ward's version, reported in the OpenAPI document.
    package static let version = WardBuild.version

    /// The node's own operations: probes, metrics, the document, and the tenant a request
    /// resolved to.
    static var kernelOperations: [APIOperation] {
        HealthController.operations + MetricsController.operations + TenantController.operations + [
            APIOperation("openAPIDocument", .get, "/api/openapi.json", summary: "This API's OpenAPI 3.1 document", tag: "operations"),
        ]
    }

    /// The API `modules` offer: every operation, with the shape its request body is held to, and
    /// the OpenAPI document listing them. Schemas are gathered once for both.
    static func api(modules: [any WardModule.Type], context: SchemaContext) throws -> (operations: [APIOperation], document: Data) {
        var schemas = SchemaBuilder(context: context)
        for operation in kernelOperations { operation.addSchemas(to: &schemas) }
        for module in modules {
            for operation in module.operations { operation.addSchemas(to: &schemas) }
            if let name = schemas.clashes.first {
                throw ModuleError.conflict("\(module.name) declares the schema \(name), which another type declares")
            }
        }
        let operations = (kernelOperations + modules.flatMap { $0.operations }).map { $0.withBodyShape(from: schemas).rateLimited() }
        return (operations, try OpenAPIDocument.render(operations: operations, schemas: schemas, version: version))
    }

    /// Every operation of the registered modules, with the default password policy.
    package static var operations: [APIOperation] {
        get throws { try api(modules: WardModules.registered, context: defaultContext(WardModules.registered)).operations }
    }

    static func defaultContext(_ modules: [any WardModule.Type]) throws -> SchemaContext {
        SchemaContext(passwordMinimumLength: PasswordPolicy.standard.minimumLength, permissionNames: try PermissionCatalogue(modules: modules).names)
    }

    /// The OpenAPI document of the registered modules, with the default password policy.
    package static func openAPIDocument() throws -> Data {
        try api(modules: WardModules.registered, context: defaultContext(WardModules.registered)).document
    }

    /// The document `services` serve: their modules, password policy and catalogue.
    package static func openAPIDocument(_ services: WardServices) throws -> Data {
        try api(services).document
    }

    static func api(_ services: WardServices) throws -> (operations: [APIOperation], document: Data) {
        try api(modules: services.modules.map { type(of: $0) },
                context: SchemaContext(passwordMinimumLength: services.identity.policy.minimumLength, permissionNames: services.node.catalogue.names))
    }

    /// The router with every module's routes behind the edge. Each operation is registered
    /// behind the gate its access names, then its `OperationGuard`. Tests may add routes before
    /// building the application from it.
    package static func buildRouter(_ services: WardServices) throws -> Router<WardRequestContext> {
        let node = services.node
        let (operations, documentData) = try api(services)
        let document = ByteBuffer(bytes: documentData)

        var handlers: [String: ModuleRoutes.Handler] = [:]
        var kernel = ModuleRoutes(module: "kernel", operations: kernelOperations)
        HealthController(storage: services.storage, moduleChecks: node.built.flatMap { $0.readinessChecks() },
                         checkTimeout: services.settings.readinessCheckTimeout, logger: services.logger).routes(&kernel)
        let disk = DiskMetrics(settings: services.settings, registry: services.metrics.registry)
        let pools = DatabaseMetrics(storage: services.storage, registry: services.metrics.registry)
        MetricsController(metrics: services.metrics, refresh: {
            disk.refresh()
            pools.refresh()
            await node.refreshMetrics()
        }).routes(&kernel)
        TenantController().routes(&kernel)
        kernel.on("openAPIDocument") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: document))
        }
        handlers.merge(try kernel.complete()) { first, _ in first }
        for module in node.built {
            var routes = ModuleRoutes(module: type(of: module).name, operations: type(of: module).operations)
            module.routes(&routes)
            for (name, handler) in try routes.complete() {
                guard handlers.updateValue(handler, forKey: name) == nil else { throw ModuleError.conflict("two modules declare the operation \(name)") }
            }
        }

        let router = Router(context: WardRequestContext.self)
        router.add(middleware: EdgeMiddleware(settings: services.settings, metrics: services.metrics, accessLog: services.accessLog,
                                             routes: RouteMethods(operations), rateLimiter: services.rateLimiter,
                                             crossOrigin: CrossOrigin(nodeOrigins: Set(services.settings.corsOrigins), tenants: try? node.require(TenantOrigins.self, by: "the edge"),
                                                                      naming: node.naming),
                                             sessionPositions: services.storage.sessionPositions))
        let gates: [APIOperation.Access: RouterGroup<WardRequestContext>] = [
            .open: router.group(),
            .tenant: router.group().add(middleware: TenancyMiddleware(tenants: services.storage.tenants, naming: node.naming)),
            .staff: router.group().add(middleware: AuthenticationMiddleware(identity: services.identity, naming: node.naming)),
            .platformAdmin: router.group().add(middleware: PlatformAuthenticationMiddleware(identity: services.identity)),
        ]
        for operation in operations {
            guard let handler = handlers[operation.name] else { throw ModuleError.badBinding("no module binds a handler to \(operation.name)") }
            gates[operation.access]!.add(operation, use: handler)
        }
        for module in node.built { module.pages(router) }
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
