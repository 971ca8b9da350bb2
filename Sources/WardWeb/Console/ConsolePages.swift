import Foundation
import Hummingbird
import WardAudit
import WardCore
import WardHTTP
import WardIdentity
import WardPlatform
import WardStorage

/// The console: tenants and their status, provisioning a tenant and watching its steps, retry,
/// suspend, resume and delete. For the control plane's administrators only.
struct ConsolePages: Sendable {
    let app: WebApp

    func register(open: RouterGroup<WardRequestContext>, signedIn: RouterGroup<WardRequestContext>) {
        open.get("sign-in") { request, _ in signInPage(request, next: WebApp.safeNext(request.uri.queryParameters.get("next"), area: .console),
                                                       notice: Self.notice(request)) }
        open.post("sign-in") { request, context in try await signIn(request, context) }
        signedIn.post("sign-out") { request, _ in try await signOut(request) }
        signedIn.get("session") { _, _ in Response(status: .noContent) }
        signedIn.get { request, _ in try await tenants(request) }
        signedIn.get("tenants/new") { _, _ in newTenant(fields: Self.fields(nil)) }
        signedIn.post("tenants") { request, _ in try await provision(request) }
        signedIn.get("tenants/{slug}") { request, context in try await tenant(request, context) }
        for action in ["retry", "suspend", "resume", "delete"] {
            signedIn.post(RouterPath("tenants/{slug}/\(action)")) { request, context in try await act(action, request, context) }
        }
    }

    private var admin: IdentityService.ConsoleAdmin {
        get throws {
            guard let admin = ConsoleGate.admin else { throw HTTPError(.internalServerError) }
            return admin
        }
    }

    // MARK: Signing in

    struct SignInModel {
        var shell: Shell
        let formToken: String
        let next: String
        var fields: [Field]
        var problem: String?
        var problemDetail: String?
    }

    private static func notice(_ request: Request) -> String? {
        if request.uri.queryParameters.get("expired") != nil { return "Your session ended. Sign in again to continue." }
        if request.uri.queryParameters.get("signed_out") != nil { return "You have signed out." }
        return nil
    }

    private func signInPage(_ request: Request, next: String, notice: String? = nil, email: String? = nil, status: HTTPResponse.Status = .ok,
                            problem: String? = nil, detail: String? = nil) -> Response {
        let token = request.cookies[WebApp.signInCookie]?.value.nonEmpty ?? SignInPages.randomToken()
        var shell = Shell()
        shell.home = "/console"
        shell.notice = notice
        let fields = [
            Field("email", "Email", type: "email", value: email, required: true, autocomplete: "email"),
            Field("password", "Password", type: "password", required: true, autocomplete: "current-password"),
        ]
        var response = app.renderer.page("console-sign-in", SignInModel(shell: shell, formToken: token, next: next, fields: fields,
                                                                      problem: problem, problemDetail: detail), status: status)
        response.setCookie(app.cookie(WebApp.signInCookie, token, request: request, path: "/console"))
        return response
    }

    func signIn(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        let form = try await FormBody.read(request)
        guard let cookie = request.cookies[WebApp.signInCookie]?.value, cookie.count >= 32, let field = form.raw("_csrf"),
              SignInPages.constantTimeEqual(cookie, field) else { throw PageError.formTokenRejected }
        let next = WebApp.safeNext(form["next"], area: .console)
        guard let email = form["email"], let password = form.raw("password"), !password.isEmpty else {
            return signInPage(request, next: next, email: form["email"], status: .unprocessableContent, problem: "Enter your email and password.")
        }
        do {
            let session = try await app.identity.consoleSignIn(email: email, password: password, by: AuditActor(request, context))
            var response = Response.seeOther(next)
            response.setCookie(app.cookie(WebApp.consoleCookie, session, request: request, path: "/console"))
            response.setCookie(app.cookie(WebApp.signInCookie, "", request: request, maxAge: 0, path: "/console"))
            return response
        } catch let error as IdentityError {
            var (status, problem, detail) = SignInPages.explain(error)
            if case .invalidCredentials = error { problem = "The email or password is not right." }
            return signInPage(request, next: next, email: email, status: status, problem: problem, detail: detail)
        }
    }

    func signOut(_ request: Request) async throws -> Response {
        try await app.identity.consoleSignOut(try admin)
        var response = Response.seeOther("/console/sign-in?signed_out=1")
        response.setCookie(app.cookie(WebApp.consoleCookie, "", request: request, maxAge: 0, path: "/console"))
        return response
    }

    // MARK: Tenants

    struct TenantsModel {
        let shell: Shell
        let tenants: [Row]
    }
    struct Row { let slug, name, status, timeZone, created: String }

    func tenants(_ request: Request) async throws -> Response {
        let rows = try await app.identity.tenants.list().filter { $0.status != .deleted }.map {
            Row(slug: $0.slug, name: $0.name, status: $0.status.rawValue, timeZone: $0.timeZone, created: Self.stamp($0.createdAt))
        }
        return app.renderer.page("console-tenants", TenantsModel(shell: app.consoleShell(try admin, current: "/console"), tenants: rows))
    }

    struct NewModel {
        let shell: Shell
        var fields: [Field]
        var problem: String?
        var problemDetail: String?
    }

    private func newTenant(fields: [Field], status: HTTPResponse.Status = .ok, problem: String? = nil, detail: String? = nil) -> Response {
        let shell = (try? admin).map { app.consoleShell($0, current: "/console/tenants/new") } ?? Shell()
        return app.renderer.page("console-new", NewModel(shell: shell, fields: fields, problem: problem, problemDetail: detail), status: status)
    }

    static func fields(_ form: FormBody?) -> [Field] {
        [
            Field("name", "Clinic name", value: form?["name"], required: true, autocomplete: "off"),
            Field("slug", "Short name", value: form?["slug"], hint: "Lower-case letters, digits and hyphens: the clinic's address and sign-in name.",
                  required: true, autocomplete: "off"),
            Field("timezone", "Time zone", value: form?["timezone"] ?? "UTC", hint: "An IANA name such as Europe/London.", required: true, autocomplete: "off"),
            Field("admin_name", "First administrator's name", value: form?["admin_name"], autocomplete: "off"),
            Field("admin_email", "First administrator's email", type: "email", value: form?["admin_email"],
                  hint: "They receive a link to set their password.", required: true),
        ]
    }

    func provision(_ request: Request) async throws -> Response {
        let form = try await FormBody.read(request)
        guard form["admin_email"] != nil else {
            var fields = Self.fields(form)
            _ = fields.attach([("admin_email", "is needed: without a first administrator nobody can sign in to the clinic")])
            return newTenant(fields: fields, status: .unprocessableContent, problem: "Some details need correcting.")
        }
        let order = TenantLifecycle.Request(slug: form["slug"]?.lowercased() ?? "", name: form["name"] ?? "", timeZone: form["timezone"] ?? "UTC",
                                            adminEmail: form["admin_email"], adminName: form["admin_name"])
        do {
            let (tenant, _) = try await app.lifecycle.requestProvisioning(order)
            return Response.seeOther("/console/tenants/\(tenant.slug)")
        } catch IdentityError.invalidInput(let errors) {
            var fields = Self.fields(form)
            let unplaced = fields.attach(errors.map { ($0.field, $0.message) })
            return newTenant(fields: fields, status: .unprocessableContent, problem: "Some details need correcting.",
                             detail: unplaced.isEmpty ? nil : unplaced.joined(separator: " "))
        } catch let error as any ProblemConvertible {
            var fields = Self.fields(form)
            if error.problem.status == 409 { _ = fields.attach([("slug", "is taken: slugs are never reused")]) }
            return newTenant(fields: fields, status: HTTPResponse.Status(code: error.problem.status), problem: error.problem.title, detail: error.problem.detail)
        }
    }

    // MARK: One tenant

    struct TenantModel {
        var shell: Shell
        let slug, name, timeZone, created, status: String
        let lastError: String?
        /// Nothing more will change without an administrator: the page stops refreshing.
        let final: Bool
        let steps: [Step]
        let canRetry, canSuspend, canResume, canDelete, anyAction: Bool
        var deleteFields: [Field]
        var problem: String?
        var problemDetail: String?
    }
    struct Step { let step, attempt, outcome, took, error: String }

    func tenant(_ request: Request, _ context: WardRequestContext, status: HTTPResponse.Status = .ok, problem: String? = nil,
                detail: String? = nil, deleteError: String? = nil) async throws -> Response {
        let slug = try Self.slug(context)
        let description: TenantLifecycle.Description
        do { description = try await app.lifecycle.describe(slug) } catch TenantError.notFound { throw PageError.notFound }
        let tenant = description.tenant
        let final = ![.pending, .provisioning].contains(tenant.status)
        var confirm = Field("confirm", "Type the short name to confirm deletion", autocomplete: "off")
        confirm.error = deleteError
        let model = TenantModel(
            shell: app.consoleShell(try admin, current: ""), slug: tenant.slug, name: tenant.name, timeZone: tenant.timeZone,
            created: Self.stamp(tenant.createdAt), status: tenant.status.rawValue, lastError: tenant.lastError, final: final,
            steps: description.steps.map { Step(step: $0.step, attempt: String($0.attempt), outcome: $0.outcome, took: "\($0.durationMs) ms", error: $0.error ?? "") },
            canRetry: tenant.status == .failed, canSuspend: tenant.status == .active, canResume: tenant.status == .suspended || tenant.status == .deleting,
            canDelete: [.active, .suspended, .failed].contains(tenant.status),
            anyAction: [.failed, .active, .suspended, .deleting].contains(tenant.status), deleteFields: [confirm], problem: problem, problemDetail: detail
        )
        if request.uri.queryParameters.get("partial") != nil { return PageRenderer.response(app.renderer.html("console-steps", model)) }
        return app.renderer.page("console-tenant", model, status: status)
    }

    func act(_ action: String, _ request: Request, _ context: WardRequestContext) async throws -> Response {
        let slug = try Self.slug(context), actor = AuditActor(request, context)
        let form = try await FormBody.read(request)
        do {
            switch action {
            case "retry": _ = try await app.lifecycle.retry(slug)
            case "suspend": _ = try await app.lifecycle.suspend(slug, by: actor)
            case "resume": _ = try await app.lifecycle.resume(slug, by: actor)
            default:
                guard form["confirm"] == slug else {
                    return try await tenant(request, context, status: .unprocessableContent, problem: "The tenant was not deleted.",
                                            deleteError: "Type \(slug) to confirm.")
                }
                _ = try await app.lifecycle.delete(slug, by: actor)
            }
        } catch TenantError.notFound {
            throw PageError.notFound
        } catch let error as any ProblemConvertible {
            return try await tenant(request, context, status: HTTPResponse.Status(code: error.problem.status), problem: error.problem.title,
                                    detail: error.problem.detail)
        }
        return Response.seeOther("/console/tenants/\(slug)")
    }

    static func slug(_ context: WardRequestContext) throws -> String {
        let slug = try context.parameters.require("slug")
        guard ParameterFormat.slug.problem(with: slug) == nil else { throw PageError.notFound }
        return slug
    }

    static func stamp(_ text: String) -> String {
        Timestamp.date(text).map { TodayPage.stamp.string(from: $0, in: .gmt) + " UTC" } ?? text
    }
}
