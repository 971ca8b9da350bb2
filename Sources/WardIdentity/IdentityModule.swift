import Foundation
package import WardAudit
package import WardHTTP
package import WardJobs
package import WardKit
import WardMail
package import WardStorage

/// Identity as a module: users, roles and sessions in every tenant, control-plane
/// administrators, logins and second factors. It publishes `IdentityService`, which the node's
/// authentication and the platform module use.
package struct IdentityModule: WardModule {
    package static let name = "identity"
    package static let usersManage = "users:manage"
    package static let rolesManage = "roles:manage"
    package static let sessionCleanupKind = "sessions.cleanup"

    package static var tenantMigrations: [Migration] { IdentityMigrations.all }
    package static var platformMigrations: [Migration] { IdentityMigrations.platform }
    package static let permissions = [
        PermissionDefinition(usersManage, "create, update and disable users; assign roles"),
        PermissionDefinition(rolesManage, "create and edit custom roles"),
    ]
    package static var operations: [APIOperation] { AuthController.operations + UserController.operations }

    package let service: IdentityService
    let resetMail: PasswordResetMail
    let node: ModuleNode

    package init(node: ModuleNode) async throws {
        self.node = node
        service = try await IdentityService(settings: node.settings, storage: node.storage, audit: node.audit, catalogue: node.catalogue,
                                            logger: node.logger, clock: node.clock)
        let outbox = try node.require(Outbox.self, by: Self.name)
        outbox.templates.register([PasswordResetMail.template])
        resetMail = PasswordResetMail(identity: service, outbox: outbox, baseDomain: node.settings.baseDomain)
        node.provide(service)
        node.provide(resetMail)
    }

    package func routes(_ routes: inout ModuleRoutes) {
        AuthController(identity: service, naming: node.naming, resetMail: resetMail).routes(&routes)
        UserController(identity: service, resetMail: resetMail).routes(&routes)
    }

    package func jobs() -> [JobHandler] {
        let identity = service, node = self.node
        return [
            JobHandler(kind: Self.sessionCleanupKind, policy: RetryPolicy(node.settings.jobs)) { _ in
                for tenant in try await node.liveTenants() {
                    try await identity.removeEndedSessions(in: try await node.storage.tenants.scope(for: tenant))
                }
            },
        ]
    }

    /// Ended sessions and their refresh tokens are removed hourly.
    package func schedules() throws -> [Schedule] {
        let attempts = node.settings.jobs.maxAttempts
        return [
            try Schedule(name: Self.sessionCleanupKind, cron: "17 * * * *", scope: .installation(.gmt), catchUp: .seconds(3600)) { _, _ in
                try JobQueue.Request(kind: Self.sessionCleanupKind, payload: NoPayload(), maxAttempts: attempts)
            },
        ]
    }

    /// The catalogue and built-in roles; the first administrator is the platform's step.
    package func seed(_ scope: TenantScope, by actor: AuditActor) async throws {
        try await service.seedCatalogue(in: scope)
    }
}
