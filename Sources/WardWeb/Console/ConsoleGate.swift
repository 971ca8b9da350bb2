import Hummingbird
import WardHTTP
import WardIdentity

/// The gate of the console's pages: the console cookie gives the administrator (kept for the
/// request's task), and every form posted carries the session's form token.
struct ConsoleGate: RouterMiddleware {
    typealias Context = WardRequestContext
    let app: WebApp

    /// The administrator of the request being handled.
    @TaskLocal static var admin: IdentityService.ConsoleAdmin?

    func handle(_ request: Request, context: WardRequestContext, next: (Request, WardRequestContext) async throws -> Response) async throws -> Response {
        let back = request.method == .get ? request.uri.description : "/console"
        guard let cookie = request.cookies[WebApp.consoleCookie]?.value, !cookie.isEmpty else {
            throw PageError.signInRequired(next: back, expired: false)
        }
        let admin: IdentityService.ConsoleAdmin
        do {
            admin = try await app.identity.consoleAdmin(forSessionCookie: cookie)
        } catch IdentityError.unauthenticated {
            throw PageError.signInRequired(next: back, expired: true)
        }
        var context = context
        context.platformAdminID = admin.id
        let forward = try await app.checkingFormToken(request, session: admin.sessionID, context: context), forwardContext = context
        return try await Self.$admin.withValue(admin) { try await next(forward, forwardContext) }
    }
}

extension WebApp {
    /// The frame of a console page.
    func consoleShell(_ admin: IdentityService.ConsoleAdmin, current: String) -> Shell {
        var shell = Shell()
        shell.home = "/console"
        shell.signOutAction = "/console/sign-out"
        shell.clinic = "Console"
        shell.signedIn = true
        shell.userName = admin.name
        shell.formToken = identity.formToken(forSession: admin.sessionID)
        shell.idleSeconds = Int(identity.settings.sessionIdleTimeout.components.seconds)
        shell.nav = [("/console", "Tenants"), ("/console/tenants/new", "Provision a tenant")]
            .map { NavLink(href: $0.0, label: $0.1, current: $0.0 == current) }
        return shell
    }
}
