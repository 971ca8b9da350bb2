package import Hummingbird
import WardAudit
import WardBilling
import WardParking
import WardClinical
import WardDocuments
package import WardHTTP
import WardIdentity
import WardMail
import WardPlatform
package import WardKit

/// The staff web app: server-rendered pages under `/app`, from the same binary and the same
/// services as the API. Pages call the modules' services (which audit every access to patient
/// data) with the signed-in user as the actor, and check permissions as the API does.
package struct WebModule: WardModule {
    package static let name = "web"

    let app: WebApp

    package init(node: ModuleNode) throws {
        app = WebApp(
            identity: try node.require(IdentityService.self, by: Self.name),
            audit: node.audit,
            lifecycle: try node.require(TenantLifecycle.self, by: Self.name),
            breakGlass: BreakGlass(trail: node.audit, duration: node.settings.breakGlassDuration, clock: node.clock),
            patients: try node.require(PatientService.self, by: Self.name),
            scheduling: try node.require(SchedulingService.self, by: Self.name),
            prescribing: try node.require(PrescribingService.self, by: Self.name),
            documents: try node.require(ClinicalDocuments.self, by: Self.name),
            resetMail: try node.require(PasswordResetMail.self, by: Self.name),
            outbox: try node.require(Outbox.self, by: Self.name),
            mailWording: try node.require(MailWording.self, by: Self.name),
            files: try node.require(PatientDocuments.self, by: Self.name),
            billing: try node.require(BillingService.self, by: Self.name),
            billingReports: try node.require(BillingReports.self, by: Self.name),
            invoices: try node.require(InvoiceDocuments.self, by: Self.name),
            parking: try node.require(ParkingService.self, by: Self.name),
            renderer: try PageRenderer(), settings: node.settings, naming: node.naming, logger: node.logger, clock: node.clock
        )
    }

    package func pages(_ router: Router<WardRequestContext>) {
        for asset in Asset.all {
            let response = asset.response
            router.get(RouterPath(asset.path)) { _, _ in response }
        }
        let open = router.group("app").add(middleware: PageErrorMiddleware(app: app))
        // Errors of signed-in pages are rendered inside the session (the page keeps its menu);
        // the outer one renders what the session gate itself throws.
        let signedIn = open.group().add(middleware: SignedInMiddleware(app: app)).add(middleware: PageErrorMiddleware(app: app))
        SignInPages(app: app).register(open: open, signedIn: signedIn)
        TodayPage(app: app).register(signedIn)
        PatientPages(app: app).register(signedIn)
        AppointmentPages(app: app).register(signedIn)
        UserPages(app: app).register(signedIn)
        AuditPages(app: app).register(signedIn)
        CalendarPage(app: app).register(signedIn)
        ReportsPage(app: app).register(signedIn)
        PrescribingPages(app: app).register(signedIn)
        DocumentPages(app: app).register(signedIn)
        BillingPages(app: app).register(signedIn)
        ParkingPages(app: app).register(signedIn)
        MailPages(app: app).register(signedIn)
        // Any other path under /app: a page, not the API's problem+json (signed out, the sign-in page).
        signedIn.get("**") { _, _ -> Response in throw PageError.notFound }

        let console = router.group("console").add(middleware: PageErrorMiddleware(app: app, area: .console))
        let admin = console.group().add(middleware: ConsoleGate(app: app)).add(middleware: PageErrorMiddleware(app: app, area: .console))
        ConsolePages(app: app).register(open: console, signedIn: admin)
        admin.get("**") { _, _ -> Response in throw PageError.notFound }
    }
}
