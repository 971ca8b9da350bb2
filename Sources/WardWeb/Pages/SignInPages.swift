import Foundation
import Hummingbird
import WardAudit
import WardCore
import WardHTTP
import WardIdentity

/// Signing in (email and password, then the code when the user has a second factor), signing
/// out, and the session check the idle warning's "Stay signed in" makes.
struct SignInPages: Sendable {
    let app: WebApp

    struct SignInModel {
        var shell = Shell()
        var formToken: String
        var next: String
        var fields: [Field]
        var problem: String?
        var problemDetail: String?
    }

    struct CodeModel {
        var shell = Shell()
        var formToken: String
        var ticket: String
        var next: String
        var fields: [Field]
        var problem: String?
        var problemDetail: String?
    }

    func register(open: RouterGroup<WardRequestContext>, signedIn: RouterGroup<WardRequestContext>) {
        open.get("sign-in") { request, context in try await showSignIn(request, context) }
        open.post("sign-in") { request, context in try await signIn(request, context) }
        open.post("sign-in/code") { request, context in try await enterCode(request, context) }
        open.get("set-password") { request, context in try await showSetPassword(request, context) }
        open.post("set-password") { request, context in try await setPassword(request, context) }
        open.get("forgot-password") { request, context in try await showForgotPassword(request, context) }
        open.post("forgot-password") { request, context in try await forgotPassword(request, context) }
        signedIn.post("sign-out") { request, context in try await signOut(request, context) }
        signedIn.get("session") { _, _ in Response(status: .noContent) }
    }

    func showSignIn(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        var shell = Shell()
        if query.get("expired") != nil { shell.notice = "Your session ended. Sign in again to continue." }
        if query.get("signed_out") != nil { shell.notice = "You have signed out." }
        if query.get("password_set") != nil { shell.notice = "Your password is set. Sign in with it." }
        let clinic = try app.naming.slug(of: request) ?? query.get("clinic")
        return signInPage(request, shell: shell, next: WebApp.safeNext(query.get("next")), clinic: clinic, email: nil)
    }

    private func signInPage(_ request: Request, shell: Shell, next: String, clinic: String?, email: String?, status: HTTPResponse.Status = .ok,
                            problem: String? = nil, detail: String? = nil) -> Response {
        let token = request.cookies[WebApp.signInCookie]?.value.nonEmpty ?? Self.randomToken()
        let fields = [
            Field("clinic", "Clinic", value: clinic, hint: "Your clinic's short name, as in its address.", required: true, autocomplete: "organization"),
            Field("email", "Email", type: "email", value: email, required: true, autocomplete: "email"),
            Field("password", "Password", type: "password", required: true, autocomplete: "current-password"),
        ]
        var response = app.renderer.page("sign-in", SignInModel(shell: shell, formToken: token, next: next, fields: fields, problem: problem,
                                                              problemDetail: detail), status: status)
        response.setCookie(app.cookie(WebApp.signInCookie, token, request: request))
        return response
    }

    func signIn(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        let form = try await FormBody.read(request)
        try checkSignInToken(request, form)
        let next = WebApp.safeNext(form["next"])
        // On a clinic's own address (subdomain or header) that clinic is the one signed in to.
        let clinic = try app.naming.slug(of: request) ?? form["clinic"]?.lowercased(), email = form["email"]
        guard let clinic, let email, let password = form.raw("password"), !password.isEmpty else {
            return signInPage(request, shell: Shell(), next: next, clinic: clinic, email: email, status: .unprocessableContent,
                              problem: "Enter your clinic, email and password.")
        }
        do {
            switch try await app.identity.signIn(tenant: clinic, email: email, password: password, by: AuditActor(request, context)) {
            case .signedIn(let session):
                return try await opened(session, request: request, next: next)
            case .secondFactor(let ticket):
                return codePage(request, ticket: ticket, next: next)
            }
        } catch let error as IdentityError {
            let (status, problem, detail) = Self.explain(error)
            return signInPage(request, shell: Shell(), next: next, clinic: clinic, email: email, status: status, problem: problem, detail: detail)
        }
    }

    private func codePage(_ request: Request, ticket: String, next: String, status: HTTPResponse.Status = .ok, problem: String? = nil) -> Response {
        let token = request.cookies[WebApp.signInCookie]?.value ?? ""
        var code = Field("code", "Code", hint: "Six digits, or a recovery code.", required: true, autocomplete: "one-time-code")
        code.error = problem == nil ? nil : "Check the code and enter it again."
        return app.renderer.page("second-factor", CodeModel(formToken: token, ticket: ticket, next: next, fields: [code], problem: problem), status: status)
    }

    func enterCode(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        let form = try await FormBody.read(request)
        try checkSignInToken(request, form)
        let next = WebApp.safeNext(form["next"])
        guard let ticket = form["ticket"] else { return Response.redirect(to: "/app/sign-in", type: .found) }
        guard let code = form["code"] else {
            return codePage(request, ticket: ticket, next: next, status: .unprocessableContent, problem: "Enter the code from your authenticator app.")
        }
        do {
            return try await opened(try await app.identity.completeSignIn(ticket: ticket, code: code, by: AuditActor(request, context)), request: request, next: next)
        } catch IdentityError.secondFactorRequired {
            return codePage(request, ticket: ticket, next: next, status: .unauthorized, problem: "That code was not accepted.")
        } catch let error as IdentityError {
            let (status, problem, detail) = Self.explain(error)
            return signInPage(request, shell: Shell(), next: next, clinic: nil, email: nil, status: status, problem: problem, detail: detail)
        }
    }

    // MARK: Setting a password

    struct SetPasswordModel {
        var shell = Shell()
        let formToken: String
        let token: String
        let minimumLength: Int
        var fields: [Field]
        var problem: String?
        var problemDetail: String?
    }

    /// The page a welcome email or a password reset links to: the token comes in the query and
    /// travels on in the form. The page is never cached and sends no referrer (the edge's
    /// headers), so the token is not left in a cache or handed to another site.
    func showSetPassword(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        // The link's token is moved into a cookie of this page's path at once, and the browser
        // sent to the same page without it: the address bar, history and any later request
        // line no longer hold it (a proxy in front may still log the first request's query).
        if let fromLink = request.uri.queryParameters.get("token"), !fromLink.isEmpty, fromLink.count <= 200 {
            var response = Response.seeOther("/app/set-password")
            response.setCookie(app.cookie(Self.resetCookie, String(fromLink), request: request, maxAge: 900, path: "/app/set-password"))
            return response
        }
        let token = request.cookies[Self.resetCookie]?.value ?? ""
        guard !token.isEmpty, token.count <= 200 else {
            return setPasswordPage(request, token: "", status: .badRequest, problem: "This link is incomplete.",
                                   detail: "Open the link from your email again, or ask your clinic's administrator for a new one.")
        }
        return setPasswordPage(request, token: token)
    }

    func setPassword(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        let form = try await FormBody.read(request)
        try checkSignInToken(request, form)
        let token = form["token"] ?? ""
        let password = form.raw("password") ?? "", repeated = form.raw("repeat") ?? ""
        guard !password.isEmpty, password == repeated else {
            return setPasswordPage(request, token: token, status: .unprocessableContent, problem: "The two passwords are not the same.",
                                   errors: [("repeat", "Repeat the same password.")])
        }
        do {
            try await app.identity.resetPassword(token: token, to: password, by: AuditActor(request, context))
        } catch IdentityError.invalidPassword(let violations) {
            return setPasswordPage(request, token: token, status: .unprocessableContent, problem: "Choose another password.",
                                   errors: [("password", "The password " + violations.joined(separator: "; ") + ".")])
        } catch IdentityError.unauthenticated {
            return setPasswordPage(request, token: "", status: .unauthorized, problem: "This link has expired or was already used.",
                                   detail: "Ask your clinic's administrator for a new one.")
        }
        var response = Response.seeOther("/app/sign-in?password_set=1")
        response.setCookie(app.cookie(WebApp.signInCookie, "", request: request, maxAge: 0))
        response.setCookie(app.cookie(Self.resetCookie, "", request: request, maxAge: 0, path: "/app/set-password"))
        return response
    }

    private func setPasswordPage(_ request: Request, token: String, status: HTTPResponse.Status = .ok, problem: String? = nil,
                                 detail: String? = nil, errors: [(field: String, message: String)] = []) -> Response {
        let formToken = request.cookies[WebApp.signInCookie]?.value.nonEmpty ?? Self.randomToken()
        var fields = [
            Field("password", "New password", type: "password", required: true, autocomplete: "new-password"),
            Field("repeat", "Repeat the new password", type: "password", required: true, autocomplete: "new-password"),
        ]
        _ = fields.attach(errors)
        let model = SetPasswordModel(formToken: formToken, token: token, minimumLength: app.identity.policy.minimumLength, fields: fields,
                                     problem: problem, problemDetail: detail)
        var response = app.renderer.page("set-password", model, status: status)
        response.setCookie(app.cookie(WebApp.signInCookie, formToken, request: request))
        return response
    }

    /// The session cookie set (a new session: any earlier one of this browser is ended), the
    /// sign-in token cleared, and on to the page asked for.
    private func opened(_ session: IdentityService.WebSession, request: Request, next: String) async throws -> Response {
        if let earlier = request.cookies[WebApp.sessionCookie]?.value, !earlier.isEmpty,
           let principal = try? await app.identity.principal(forSessionCookie: earlier) {
            try? await app.identity.logout(principal, by: AuditActor(type: .user, id: principal.userID, name: principal.displayName))
        }
        var response = Response.seeOther(next)
        response.setCookie(app.cookie(WebApp.sessionCookie, session.cookie, request: request))
        response.setCookie(app.cookie(WebApp.signInCookie, "", request: request, maxAge: 0))
        return response
    }

    func signOut(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.identity.logout(try context.requirePrincipal(), by: AuditActor(request, context))
        var response = Response.seeOther("/app/sign-in?signed_out=1")
        response.setCookie(app.cookie(WebApp.sessionCookie, "", request: request, maxAge: 0))
        return response
    }

    /// The sign-in forms' token: the field must equal the cookie the form's page set.
    func checkSignInToken(_ request: Request, _ form: FormBody) throws {
        guard let cookie = request.cookies[WebApp.signInCookie]?.value, cookie.count >= 32, let field = form.raw("_csrf"),
              Self.constantTimeEqual(cookie, field) else { throw PageError.formTokenRejected }
    }

    /// What the sign-in page says for each refusal; it never tells which of clinic, email or
    /// password was wrong.
    static func explain(_ error: IdentityError) -> (HTTPResponse.Status, String, String?) {
        switch error {
        case .locked(let seconds):
            (.tooManyRequests, "This account is locked after too many failed sign-ins.",
             "Try again in \(max(1, seconds / 60)) minutes, or ask your clinic's administrator to unlock it.")
        case .throttled:
            (.tooManyRequests, "Too many sign-in attempts from this device.", "Wait a minute and try again.")
        case .unauthenticated(let reason):
            (.unauthorized, reason, nil)
        default:
            (.unauthorized, "The clinic, email or password is not right.", "Check them and try again.")
        }
    }

    /// Holds a set-password link's token between the link and the form (15 minutes).
    static let resetCookie = "ward_reset"

    static func randomToken() -> String {
        (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max)) }.joined()
    }

    static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8), right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
