import Foundation
package import WardAudit
package import WardHTTP
package import WardJobs
package import WardKit
package import WardStorage

/// Clinical care as a module: patients, practitioners, appointments, prescriptions and the
/// formulary, and each clinic's daily report.
package struct ClinicalModule: WardModule {
    package static let name = "clinical"
    package static let dailyReportKind = "report.daily"

    package static var tenantMigrations: [Migration] { ClinicalMigrations.all }
    package static let permissions = [
        PermissionDefinition("patients:read", "read patient records and search patients"),
        PermissionDefinition("patients:write", "create, update and archive patient records"),
        PermissionDefinition("appointments:read", "read appointments and practitioners' schedules"),
        PermissionDefinition("appointments:write", "book, move and cancel appointments"),
        PermissionDefinition("prescriptions:read", "read prescriptions"),
        PermissionDefinition("prescriptions:write", "issue and cancel prescriptions"),
        PermissionDefinition("reports:read", "read daily and periodic reports"),
    ]
    package static let roleGrants: [BuiltInRole: Set<String>] = [
        .doctor: ["patients:read", "patients:write", "appointments:read", "appointments:write", "prescriptions:read", "prescriptions:write", "reports:read"],
        .nurse: ["patients:read", "patients:write", "appointments:read", "appointments:write", "prescriptions:read"],
        .receptionist: ["patients:read", "patients:write", "appointments:read", "appointments:write"],
        .billingClerk: ["patients:read", "reports:read"],
        .auditor: ["reports:read"],
    ]
    package static var operations: [APIOperation] { ClinicalController.operations + PrescribingController.operations }

    let node: ModuleNode
    let patients: PatientService
    let scheduling: SchedulingService
    let prescribing: PrescribingService

    /// Publishes the clinical services for the modules that show or bill clinical records.
    package init(node: ModuleNode) {
        self.node = node
        patients = PatientService(audit: node.audit)
        scheduling = SchedulingService(audit: node.audit)
        prescribing = PrescribingService(audit: node.audit)
        node.provide(patients)
        node.provide(scheduling)
        node.provide(prescribing)
    }

    package func routes(_ routes: inout ModuleRoutes) {
        ClinicalController(patients: patients, scheduling: scheduling).routes(&routes)
        PrescribingController(prescribing: prescribing).routes(&routes)
    }

    struct DailyReportOrder: Codable { let day: String }

    package func jobs() -> [JobHandler] {
        let tenants = node.storage.tenants
        return [
            JobHandler(kind: Self.dailyReportKind, policy: RetryPolicy(node.settings.jobs)) { run in
                guard let slug = run.job.tenant, let tenant = try await tenants.fetch(slug: slug),
                      [.active, .suspended].contains(tenant.status) else { return }
                let order = try run.job.decodePayload(as: DailyReportOrder.self)
                try await DailyReport.generate(day: order.day, in: try await tenants.scope(for: tenant))
            },
        ]
    }

    /// Each tenant's day is counted at its local midnight.
    package func schedules() throws -> [Schedule] {
        let attempts = node.settings.jobs.maxAttempts
        return [
            try Schedule(name: Self.dailyReportKind, cron: "0 0 * * *", scope: .eachTenant) { firedAt, tenant in
                let zone = tenant.flatMap { TimeZone(identifier: $0.timeZone) } ?? .gmt
                return try JobQueue.Request(kind: Self.dailyReportKind, payload: DailyReportOrder(day: DailyReport.day(endingAt: firedAt, in: zone)),
                                            tenant: tenant?.slug, maxAttempts: attempts)
            },
        ]
    }

    /// A new clinic starts with the starter formulary.
    package func seed(_ scope: TenantScope, by actor: AuditActor) async throws {
        try await prescribing.loadStarterFormulary(in: scope, by: actor)
    }
}
