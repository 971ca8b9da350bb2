package import Foundation
package import Hummingbird
package import Logging
package import NIOCore
package import WardCore
package import WardHTTP
package import WardStorage

/// What a node is assembled from: settings, storage, metrics and loggers. Built once by the
/// executable (or a test) and handed to `buildApplication`.
package struct WardServices: Sendable {
    package let settings: WardSettings
    package let storage: Storage
    package let metrics: WardMetrics
    /// The application's logger (errors, lifecycle).
    package let logger: Logger
    /// The logger of the one-line-per-request access log.
    package let accessLogger: Logger

    package init(settings: WardSettings, storage: Storage, metrics: WardMetrics, logger: Logger, accessLogger: Logger) {
        self.settings = settings
        self.storage = storage
        self.metrics = metrics
        self.logger = logger
        self.accessLogger = accessLogger
    }
}

/// Ward's HTTP application: every route, behind the edge middleware.
package enum WardApplication {
    /// Ward's version, reported in the OpenAPI document.
    package static let version = "0.1.0"

    /// Every operation the API offers, as the OpenAPI document lists them.
    package static var operations: [APIOperation] {
        HealthController.operations + MetricsController.operations + openAPIOperations + TenantController.operations
    }

    static let openAPIOperations = [
        APIOperation(.get, "/api/openapi.json", summary: "This API's OpenAPI 3.1 document", tag: "operations"),
    ]

    /// The OpenAPI document as served.
    package static func openAPIDocument() throws -> Data {
        var schemas: [String: Any] = [:]
        for part in [HealthController.schemas, TenantController.schemas] { schemas.merge(part) { $1 } }
        return try OpenAPIDocument.render(operations: operations, schemas: schemas, version: version)
    }

    /// The router with every route and middleware. Tests may add routes before building the
    /// application from it.
    package static func buildRouter(_ services: WardServices) throws -> Router<WardRequestContext> {
        let router = Router(context: WardRequestContext.self)
        router.add(middleware: EdgeMiddleware(settings: services.settings, metrics: services.metrics, accessLogger: services.accessLogger))
        HealthController(storage: services.storage, checkTimeout: .seconds(3)).register(on: router)
        MetricsController(metrics: services.metrics).register(on: router)
        let document = ByteBuffer(bytes: try openAPIDocument())
        router.get("/api/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: document))
        }
        let api = router.group("/api/v1")
            .add(middleware: TenancyMiddleware(tenants: services.storage.tenants, baseDomain: services.settings.baseDomain))
        TenantController().register(on: api)
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
