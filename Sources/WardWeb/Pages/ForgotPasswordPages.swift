import Foundation
import Hummingbird
import WardAudit
import WardHTTP
import WardIdentity

/// "Forgot your password?": the clinic and email in, a link out by email. The page says the same
/// whether or not the address has an account.
extension SignInPages {
    struct ForgotModel {
        var shell = Shell()
        var formToken: String
        var fields: [Field]
        var sent = false
        var email = ""
        var problem: String?
        var problemDetail: String?
    }

    func showForgotPassword(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        let clinic = try app.naming.slug(of: request) ?? request.uri.queryParameters.get("clinic")
        return forgotPage(request, clinic: clinic, email: nil)
    }

    private func forgotPage(_ request: Request, clinic: String?, email: String?, status: HTTPResponse.Status = .ok, problem: String? = nil,
                            sent: Bool = false) -> Response {
        let token = request.cookies[WebApp.signInCookie]?.value.nonEmpty ?? Self.randomToken()
        let fields = [
            Field("clinic", "Clinic", value: clinic, hint: "Your clinic's short name, as in its address.", required: true, autocomplete: "organization"),
            Field("email", "Email", type: "email", value: email, required: true, autocomplete: "email"),
        ]
        var response = app.renderer.page("forgot-password", ForgotModel(formToken: token, fields: fields, sent: sent, email: email ?? "", problem: problem),
                                         status: status)
        response.setCookie(app.cookie(WebApp.signInCookie, token, request: request))
        return response
    }

    func forgotPassword(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        let form = try await FormBody.read(request)
        try checkSignInToken(request, form)
        let clinic = try app.naming.slug(of: request) ?? form["clinic"]?.lowercased(), email = form["email"]
        guard let clinic, let email, email.count <= 254 else {
            return forgotPage(request, clinic: clinic, email: email, status: .unprocessableContent, problem: "Enter your clinic and your email.")
        }
        do {
            try await app.resetMail.request(email: email, tenant: clinic, by: AuditActor(request, context))
        } catch IdentityError.throttled {
            return forgotPage(request, clinic: clinic, email: email, status: .tooManyRequests, problem: "Too many requests from here: wait a minute and try again.")
        }
        return forgotPage(request, clinic: clinic, email: email, sent: true)
    }
}
