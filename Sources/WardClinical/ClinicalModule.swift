import Foundation
package import ServiceLifecycle
package import WardAudit
package import WardHTTP
package import WardJobs
package import WardKit
import WardIdentity
import WardMail
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
    package static var operations: [APIOperation] { ClinicalController.operations + PrescribingController.operations + ReportsController.operations }

    let node: ModuleNode
    let patients: PatientService
    let scheduling: SchedulingService
    let prescribing: PrescribingService

    let documents: ClinicalDocuments
    let mail: ClinicalMail
    let protection: PatientProtection

    /// Publishes the clinical services for the modules that show or bill clinical records.
    /// Needs the `Outbox` and `IdentityService` (registered before it).
    package init(node: ModuleNode) throws {
        self.node = node
        let (typeface, problems) = ClinicalDocuments.typeface(node.settings)
        for problem in problems { node.logger.warning("PDF font not usable", metadata: ["problem": "\(problem)"]) }
        if case .helvetica = typeface {
            node.logger.warning("no TrueType font found: PDFs use Helvetica and show Latin-1 only; set WARD_PDF_FONT (e.g. install fonts-freefont-ttf)")
        }
        let identity = try node.require(IdentityService.self, by: Self.name)
        let protection = PatientProtection(keys: TenantKeys(storage: node.storage, settings: node.settings))
        self.protection = protection
        documents = ClinicalDocuments(settings: node.settings, audit: node.audit, identity: identity, protection: protection, typeface: typeface)
        let outbox = try node.require(Outbox.self, by: Self.name)
        outbox.templates.register(ClinicalMail.templates)
        mail = ClinicalMail(outbox: outbox, documents: documents, identity: identity, queue: node.queue,
                            tenants: node.storage.tenants, audit: node.audit, protection: protection, jobAttempts: node.settings.jobs.maxAttempts)
        patients = PatientService(audit: node.audit, protection: protection)
        scheduling = SchedulingService(audit: node.audit, mail: mail)
        prescribing = PrescribingService(audit: node.audit, mail: mail)
        node.provide(protection)
        node.provide(patients)
        node.provide(scheduling)
        node.provide(prescribing)
        node.provide(documents)
    }

    /// Seals what was stored before patient fields were sealed.
    package func services() -> [any Service] {
        [PatientSealing(patients: patients, node: node)]
    }

    /// A purged tenant's data key is destroyed with its documents'; its derived keys go too.
    package func purge(_ tenant: Tenant) async throws {
        protection.forget(tenant.id)
    }

    package func routes(_ routes: inout ModuleRoutes) {
        ClinicalController(patients: patients, scheduling: scheduling).routes(&routes)
        PrescribingController(prescribing: prescribing, documents: documents).routes(&routes)
        ReportsController(documents: documents, audit: node.audit).routes(&routes)
    }

    struct DailyReportOrder: Codable { let day: String }

    package func jobs() -> [JobHandler] {
        let tenants = node.storage.tenants, mail = self.mail
        return [
            // Counted for suspended clinics too (their day happened); mailed only to active ones.
            JobHandler(kind: Self.dailyReportKind, policy: RetryPolicy(node.settings.jobs)) { run in
                guard let slug = run.job.tenant, let tenant = try await tenants.fetch(slug: slug),
                      [.active, .suspended].contains(tenant.status) else { return }
                let order = try run.job.decodePayload(as: DailyReportOrder.self)
                let scope = try await tenants.scope(for: tenant)
                let report = try await DailyReport.generate(day: order.day, in: scope)
                if tenant.status == .active { try await mail.sendDailyReport(report, in: scope) }
            },
        ] + mail.handlers(policy: RetryPolicy(node.settings.jobs))
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

/// Seals, once per tenant, the patient fields stored before sealing began (`sealLegacy`), then
/// waits for the node's shutdown: a service of the node's group, so it runs beside serving.
struct PatientSealing: Service {
    let patients: PatientService
    let node: ModuleNode

    func run() async throws {
        for tenant in (try? await node.liveTenants()) ?? [] where !Task.isShuttingDownGracefully {
            do {
                let sealed = try await patients.sealLegacy(in: try await node.storage.tenants.scope(for: tenant))
                if sealed > 0 { node.logger.notice("patient fields sealed", metadata: ["tenant_id": "\(tenant.slug)", "patients": "\(sealed)"]) }
            } catch {
                node.logger.error("sealing patient fields failed; tried again at the next start", metadata: ["tenant_id": "\(tenant.slug)", "error": "\(error)"])
            }
        }
        try? await gracefulShutdown()
    }
}
