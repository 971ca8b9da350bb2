import Foundation
import Hummingbird
import Logging
import NIOCore
import WardAudit
import WardCore
import WardHTTP
import WardIdentity

/// Turns whatever a page throws into a page: sign-in redirects, refusals, validation the
/// handler did not show itself, not found, and (logged, with the request id) server errors.
/// The API keeps problem+json; a person in a browser gets a page they can act on.
struct PageErrorMiddleware: RouterMiddleware {
    typealias Context = WardRequestContext
    let app: WebApp
    /// The staff's app or the console: where to sign in, and the frame of the error page.
    var area = WebArea.app

    func handle(_ request: Request, context: WardRequestContext, next: (Request, WardRequestContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as PageError {
            switch error {
            case .signInRequired(let next, let expired):
                return signIn(request, next: next, expired: expired)
            case .forbidden(let permission, let secondFactorMissing):
                return errorPage(context, status: .forbidden, heading: "You do not have access to this page",
                                 message: secondFactorMissing
                                    ? "Your role requires a second factor. Enrol an authenticator app before using this page."
                                    : "This page needs the permission \(permission), which your roles do not include. Ask your clinic's administrator if you need it.")
            case .formTokenRejected:
                return errorPage(context, status: .forbidden, heading: "This form could not be accepted",
                                 message: "The form was sent from an old page or another session. Go back, reload the page and try again.")
            case .notFound:
                return errorPage(context, status: .notFound, heading: "Page not found", message: "There is no such page, or the record it showed no longer exists.")
            }
        } catch let error as IdentityError {
            if case .unauthenticated = error { return signIn(request, next: request.uri.path, expired: true) }
            return problemPage(error.problem, context)
        } catch let error as any ProblemConvertible {
            return problemPage(error.problem, context)
        } catch let error as HTTPError where error.status == .notFound {
            return errorPage(context, status: .notFound, heading: "Page not found", message: "There is no such page, or the record it showed no longer exists.")
        } catch where (error as? HTTPError)?.status == .contentTooLarge || error is NIOTooManyBytesError {
            // Refused at the edge by its declared length, or outgrowing the form's limit as it arrived.
            return errorPage(context, status: .contentTooLarge, heading: "Too much was sent", message: "The form was larger than this page accepts.")
        } catch {
            context.logger.error("page failed", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            return errorPage(context, status: .internalServerError, heading: "Something went wrong",
                             message: "The page could not be shown. Nothing you saved before this was lost. Try again in a moment.")
        }
    }

    /// To the sign-in page, coming back to `next` afterwards; an ended session's cookie is cleared.
    private func signIn(_ request: Request, next: String, expired: Bool) -> Response {
        var target = area.home + "/sign-in?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        if expired { target += "&expired=1" }
        var response = Response.redirect(to: target, type: .found)
        if expired { response.setCookie(app.cookie(area.sessionCookie, "", request: request, maxAge: 0, path: area.home)) }
        return response
    }

    private func problemPage(_ problem: Problem, _ context: WardRequestContext) -> Response {
        errorPage(context, status: HTTPResponse.Status(code: problem.status), heading: problem.title, message: problem.detail ?? "")
    }

    func errorPage(_ context: WardRequestContext, status: HTTPResponse.Status, heading: String, message: String) -> Response {
        struct Model { let shell: Shell; let heading, message, back, backLabel: String; let requestID: String }
        var shell = (area == .app ? try? app.shell(context, current: "") : ConsoleGate.admin.map { app.consoleShell($0, current: "") }) ?? Shell()
        shell.home = area.home
        let model = Model(shell: shell, heading: heading, message: message, back: shell.signedIn ? area.home : area.home + "/sign-in",
                          backLabel: shell.signedIn ? (area == .app ? "Back to today" : "Back to tenants") : "Sign in", requestID: context.requestID)
        return app.renderer.page("error", model, status: status)
    }
}

/// The gate of every signed-in page: the session cookie gives the principal and the tenant
/// (as a bearer token does on the API), and every form posted carries the session's form token.
struct SignedInMiddleware: RouterMiddleware {
    typealias Context = WardRequestContext
    let app: WebApp

    func handle(_ request: Request, context: WardRequestContext, next: (Request, WardRequestContext) async throws -> Response) async throws -> Response {
        guard let cookie = request.cookies[WebApp.sessionCookie]?.value, !cookie.isEmpty else {
            throw PageError.signInRequired(next: request.method == .get ? request.uri.description : "/app", expired: false)
        }
        let identity = app.identity
        let principal: Principal
        do {
            principal = try await identity.principal(forSessionCookie: cookie)
        } catch IdentityError.unauthenticated {
            throw PageError.signInRequired(next: request.method == .get ? request.uri.description : "/app", expired: true)
        }
        // A page of the clinic's own address shows that clinic only.
        if let named = try app.naming.slug(of: request), named != principal.tenant { throw PageError.signInRequired(next: "/app", expired: true) }
        var context = context
        let scope = try await identity.tenants.activeScope(slug: principal.tenant)
        context.tenant = scope
        context.principal = principal
        let audit = app.audit
        let actor = AuditActor(request, context)
        context.recordDenial = { permission, route in
            try await audit.record(actor.record("access", resourceType: route, outcome: .denied, details: ["permission": permission]), in: scope)
        }
        context.trace.tenantID = principal.tenant
        context.trace.userID = principal.userID
        // Pages per session: far above a person's clicking and typing, within a script's reach.
        if let admission = await context.rateLimiter?.admit([("session", principal.sessionID)]), let refusal = admission.refusal {
            throw refusal
        }
        let request = try await app.checkingFormToken(request, session: principal.sessionID, context: context)
        return try await next(request, context)
    }
}
