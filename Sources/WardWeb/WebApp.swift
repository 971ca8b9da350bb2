import Foundation
import NIOCore
import WardDocuments
import HTTPTypes
import Hummingbird
import Logging
import WardAudit
import WardBilling
import WardParking
import WardClinical
import WardCore
import WardHTTP
import WardIdentity
import WardMail
import WardPlatform
import WardStorage

/// What every page handler works with: the services it shows, the renderer, and the frame of
/// the page for the signed-in user.
struct WebApp: Sendable {
    let identity: IdentityService
    let audit: AuditTrail
    let lifecycle: TenantLifecycle
    let breakGlass: BreakGlass
    let patients: PatientService
    let scheduling: SchedulingService
    let prescribing: PrescribingService
    let documents: ClinicalDocuments
    let resetMail: PasswordResetMail
    let outbox: Outbox
    let mailWording: MailWording
    /// Patients' documents.
    let files: PatientDocuments
    let billing: BillingService
    let billingReports: BillingReports
    let invoices: InvoiceDocuments
    let parking: ParkingService
    let renderer: PageRenderer
    let settings: WardSettings
    let naming: TenantNaming
    let logger: Logger
    /// The node's clock (a `TestClock` in tests).
    let clock: any WallClock

    static let sessionCookie = "ward_session"
    static let consoleCookie = "ward_console"
    /// The sign-in form's token before there is a session: sent as a cookie and as a field,
    /// and the two must match (a page of another site can set neither).
    static let signInCookie = "ward_signin"

    /// The menu: each entry shown only to users whose permissions open it (the pages check
    /// again: hiding a link protects nothing).
    static let menu: [(href: String, label: String, permission: String?)] = [
        ("/app", "Today", nil),
        ("/app/patients", "Patients", "patients:read"),
        ("/app/calendar", "Calendar", "appointments:read"),
        ("/app/reports", "Reports", "reports:read"),
        ("/app/billing", "Billing", "billing:read"),
        ("/app/parking", "Parking", "parking:read"),
        ("/app/audit", "Audit trail", "audit:read"),
        ("/app/users", "Users and roles", "users:manage"),
        ("/app/mail", "Emails", "mail:manage"),
    ]

    /// The frame of a page for the signed-in user, with `current` marked in the menu.
    func shell(_ context: WardRequestContext, current: String) throws -> Shell {
        let principal = try context.requirePrincipal()
        var shell = Shell()
        shell.clinic = context.tenant?.tenant.name
        shell.signedIn = true
        shell.userName = principal.displayName
        shell.formToken = identity.formToken(forSession: principal.sessionID)
        shell.idleSeconds = Int(identity.settings.sessionIdleTimeout.components.seconds)
        shell.nav = Self.menu.filter { $0.permission.map(principal.permissions.contains) ?? true }
            .map { NavLink(href: $0.href, label: $0.label, current: $0.href == current) }
        return shell
    }

    /// `request`, its form token checked when it posts a form: the session gates (staff and
    /// console) check it for every form, so no handler can forget it, and put the body back
    /// for the handler to read.
    func checkingFormToken(_ request: Request, session: String, context: WardRequestContext) async throws -> Request {
        guard request.method == .post else { return request }
        if let boundary = MultipartForm.boundary(request.headers.value(.contentType)) {
            return try await checkingMultipartFormToken(request, boundary: boundary, session: session, context: context)
        }
        var request = request
        let body = try await request.collectBody(upTo: FormBody.limit)
        guard let token = FormBody(String(buffer: body)).raw("_csrf"), identity.acceptsFormToken(token, forSession: session) else {
            context.logger.notice("form token refused", metadata: ["path": "\(request.uri.path)"])
            throw PageError.formTokenRejected
        }
        request.body = .init(buffer: body)
        return request
    }

    /// A form with a file (`multipart/form-data`) carries its token as its first field: the
    /// body is read only as far as the token, checked, and handed on whole, the rest still
    /// streaming.
    private func checkingMultipartFormToken(_ request: Request, boundary: String, session: String, context: WardRequestContext) async throws -> Request {
        var iterator = request.body.makeAsyncIterator()
        var prefix = ByteBuffer()
        var token: String?
        let marker = "name=\"_csrf\"\r\n\r\n", end = "\r\n--\(boundary)"
        while token == nil, prefix.readableBytes < FormBody.limit, var next = try await iterator.next() {
            prefix.writeBuffer(&next)
            let text = String(buffer: prefix)
            if let start = text.range(of: marker), let stop = text.range(of: end, range: start.upperBound..<text.endIndex) {
                token = String(text[start.upperBound..<stop.lowerBound])
            }
        }
        guard let token, identity.acceptsFormToken(token, forSession: session) else {
            context.logger.notice("form token refused", metadata: ["path": "\(request.uri.path)"])
            throw PageError.formTokenRejected
        }
        var request = request
        request.body = RequestBody(asyncSequence: ByteStream(iterator: iterator).prepending(prefix))
        return request
    }

    /// Refuses the page unless the user holds `permission`; the refusal is audited as on the API.
    func require(_ permission: String, _ request: Request, _ context: WardRequestContext) async throws {
        let principal = try context.requirePrincipal()
        guard principal.permissions.contains(permission) else {
            try await context.recordDenial?(permission, request.uri.path)
            throw PageError.forbidden(permission: permission, secondFactorMissing: principal.secondFactorMissing)
        }
    }

    /// Whether cookies must be `Secure`: the request reached Ward over HTTPS (through a trusted
    /// proxy that says so), or the node runs in production, which is always behind HTTPS.
    func secureCookies(_ request: Request) -> Bool {
        settings.environment == .production
            || (settings.trustProxy && request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https")
    }

    func cookie(_ name: String, _ value: String, request: Request, maxAge: Int? = nil, path: String = "/app") -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: path, secure: secureCookies(request), httpOnly: true, sameSite: .lax)
    }

    /// A local page to go to after signing in: only paths of the same area, never another site.
    static func safeNext(_ next: String?, area: WebArea = .app) -> String {
        guard let next, next == area.home || next.hasPrefix(area.home + "/") || next.hasPrefix(area.home + "?"), !next.contains("\\"), next.count <= 512,
              !next.hasPrefix(area.home + "/sign-") else { return area.home }
        return next
    }

    /// Every appointment matching the filters, in start order: the service answers pages of at
    /// most 100 in id order, so a busy day is read page by page (up to 2,000, a clinic's week).
    func appointments(practitionerID: String?, patientID: String?, from: Date?, to: Date?, in scope: TenantScope,
                      by actor: AuditActor) async throws -> [Appointment] {
        var all: [Appointment] = [], cursor: String?
        repeat {
            let page = try await scheduling.appointments(practitionerID: practitionerID, patientID: patientID, status: nil, from: from, to: to,
                                                         after: cursor, limit: 100, in: scope, by: actor)
            all += page
            cursor = page.count == 100 ? page.last?.id : nil
        } while cursor != nil && all.count < 2_000
        return all.sorted { $0.start < $1.start }
    }

    /// Patients' display names for a list, if the user may read patients: a role that reads
    /// appointments but not patients sees "a patient", as the API would show it no name.
    func patientNames(_ ids: Set<String>, _ principal: Principal, in scope: TenantScope, by actor: AuditActor) async throws -> [String: String] {
        guard principal.permissions.contains("patients:read") else { return [:] }
        return try await patients.names(of: ids, in: scope, by: actor)
    }

    /// The practitioner record of a signed-in user: the one linked to their user, or else the
    /// one with their email.
    static func practitioner(of principal: Principal, among practitioners: [Practitioner]) -> Practitioner? {
        practitioners.first { $0.userID == principal.userID }
            ?? practitioners.first { $0.email?.lowercased() == principal.email.lowercased() }
    }

    /// The clinic's time zone (UTC if the tenant names none this system knows).
    static func timeZone(_ scope: TenantScope) -> TimeZone {
        TimeZone(identifier: scope.tenant.timeZone) ?? .gmt
    }
}

extension Response {
    /// 303: after a form is handled, the browser asks for the next page with GET (reloading it
    /// does not send the form again).
    static func seeOther(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }
}

/// The two sets of pages: the clinic staff's app and the control plane's console.
enum WebArea: Sendable {
    case app, console

    var home: String { self == .app ? "/app" : "/console" }
    var sessionCookie: String { self == .app ? WebApp.sessionCookie : WebApp.consoleCookie }
}

/// A page refused or not found, shown as a page rather than problem+json.
enum PageError: Error {
    case signInRequired(next: String, expired: Bool)
    case forbidden(permission: String, secondFactorMissing: Bool)
    case formTokenRejected
    case notFound
}
