import Foundation
package import ServiceLifecycle
import WardBilling
package import WardHTTP
package import WardJobs
package import WardKit
package import WardStorage

/// Campus parking as a module: car parks, zones and spots, vehicles, bookings that never
/// double-book a spot, check-in and check-out by plate priced by the zone's rates (a patient's
/// stay charged to a draft invoice), no-shows after a grace period, and live occupancy.
package struct ParkingModule: WardModule {
    package static let name = "parking"
    package static let noShowKind = "parking.no_shows"
    package static var tenantMigrations: [Migration] { ParkingMigrations.tenant }
    package static var platformMigrations: [Migration] { ParkingMigrations.platform }
    package static let permissions = [
        PermissionDefinition("parking:read", "read parking facilities and bookings"),
        PermissionDefinition("parking:write", "manage parking spots, vehicles and bookings"),
        PermissionDefinition("parking:book", "register vehicles and book parking for staff and patients"),
    ]
    package static let roleGrants: [BuiltInRole: Set<String>] = [
        .parkingAttendant: ["parking:read", "parking:write", "parking:book"],
        // The desk books a space for a patient's visit.
        .receptionist: ["parking:read", "parking:book"],
    ]
    package static var operations: [APIOperation] { ParkingController.operations }

    let parking: ParkingService
    let node: ModuleNode

    package init(node: ModuleNode) throws {
        self.node = node
        parking = ParkingService(audit: node.audit, billing: try? node.require(BillingService.self, by: Self.name),
                                 plates: PlateProtection(keys: TenantKeys(storage: node.storage, settings: node.settings)),
                                 metrics: ParkingMetrics(registry: node.metrics.registry), tenants: ParkingTenants(storage: node.storage))
        node.provide(parking)
    }

    package func routes(_ routes: inout ModuleRoutes) {
        ParkingController(parking: parking).routes(&routes)
    }

    /// Seals patients' plates stored in clear by an earlier build.
    package func services() -> [any Service] {
        [PlateSealing(parking: parking, node: node)]
    }

    /// A purged clinic's derived plate keys go with its data key, and its record as a car park.
    package func purge(_ tenant: Tenant) async throws {
        parking.plates.forget(tenant.id)
        try await parking.tenants.forget(tenant.id)
    }

    package func jobs() -> [JobHandler] {
        let tenants = node.storage.tenants, parking = self.parking
        return [
            JobHandler(kind: Self.noShowKind, policy: RetryPolicy(node.settings.jobs)) { run in
                guard let slug = run.job.tenant, let tenant = try await tenants.fetch(slug: slug), tenant.status == .active else { return }
                try await parking.markNoShows(in: try await tenants.scope(for: tenant))
            },
        ]
    }

    /// Every five minutes, the reservations past their grace period of each clinic that runs a
    /// car park are released.
    package func schedules() throws -> [Schedule] {
        let attempts = node.settings.jobs.maxAttempts, recorded = parking.tenants
        return [
            try Schedule(name: Self.noShowKind, cron: "*/5 * * * *", scope: .eachTenant, only: { try await recorded.all() }) { _, tenant in
                try JobQueue.Request(kind: Self.noShowKind, payload: NoPayload(), tenant: tenant?.slug, maxAttempts: attempts)
            },
        ]
    }
}

/// Once per start, for each live clinic: seals patients' plates an earlier build stored in
/// clear, and records the clinic as running a car park if it has a facility the control plane
/// does not know of (`ParkingTenants`); then waits for the node's shutdown (a service of the
/// node's group, beside serving).
struct PlateSealing: Service {
    let parking: ParkingService
    let node: ModuleNode

    func run() async throws {
        let recorded = (try? await parking.tenants.all()) ?? []
        for tenant in (try? await node.liveTenants()) ?? [] where !Task.isShuttingDownGracefully {
            do {
                let scope = try await node.storage.tenants.scope(for: tenant)
                let sealed = try await parking.plates.sealLegacy(in: scope, audit: parking.audit)
                if sealed > 0 { node.logger.notice("patient plates sealed", metadata: ["tenant_id": "\(tenant.slug)", "rows": "\(sealed)"]) }
                try await parking.recordCarPark(in: scope, recorded: recorded)
            } catch {
                node.logger.error("sealing patient plates or recording the car park failed; tried again at the next start", metadata: [
                    "tenant_id": "\(tenant.slug)", "error": "\(error)",
                ])
            }
        }
        try? await gracefulShutdown()
    }
}
