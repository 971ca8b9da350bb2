import Foundation
import HTTPTypes
package import Hummingbird
import WardAudit
import WardCore
package import WardHTTP
import OpenAPIKit

/// `/api/v1/auth`: login, refresh, logout and the caller's status.
package struct AuthController: Sendable {
    let identity: IdentityService
    let naming: TenantNaming
    let resetMail: PasswordResetMail

    package init(identity: IdentityService, naming: TenantNaming, resetMail: PasswordResetMail) {
        self.identity = identity
        self.naming = naming
        self.resetMail = resetMail
    }

    package static let operations: [APIOperation] = [
        APIOperation("login", .post, "/api/v1/auth/login", summary: "Log in with email and password (the tenant in the body, X-Tenant-ID or the subdomain)", tag: "identity",
                     success: (200, "application/json", IdentityService.TokenGrant.self), problems: [400, 401, 422, 429], request: LoginRequest.self),
        APIOperation("refreshSession", .post, "/api/v1/auth/refresh", summary: "Exchange a refresh token for new tokens (rotates it)", tag: "identity",
                     success: (200, "application/json", IdentityService.TokenGrant.self), problems: [400, 401], request: RefreshRequest.self),
        APIOperation("logout", .post, "/api/v1/auth/logout", summary: "End this session", tag: "identity", access: .staff,
                     success: (204, "application/json", nil), problems: [401]),
        APIOperation("authStatus", .get, "/api/v1/auth/status", summary: "The caller, tenant, roles, permissions and session expiry", tag: "identity",
                     access: .staff, success: (200, "application/json", Status.self), problems: [401]),
        APIOperation("enrolSecondFactor", .post, "/api/v1/auth/totp/enrol", summary: "Start enrolling a TOTP second factor", tag: "identity", access: .staff,
                     success: (200, "application/json", IdentityService.Enrolment.self), problems: [401, 409]),
        APIOperation("confirmSecondFactor", .post, "/api/v1/auth/totp/confirm", summary: "Confirm the second factor with a current code; returns recovery codes",
                     tag: "identity", access: .staff, success: (200, "application/json", RecoveryCodes.self), problems: [400, 401, 409, 422], request: CodeRequest.self),
        APIOperation("resetPassword", .post, "/api/v1/auth/password-reset", summary: "Set a new password with a one-time reset token", tag: "identity",
                     success: (204, "application/json", nil), problems: [400, 401, 422], request: ResetRequest.self),
        APIOperation("requestPasswordReset", .post, "/api/v1/auth/password-reset-request",
                     summary: "Email a one-time reset link if the address has an account (202 either way; throttled per client address)",
                     tag: "identity", success: (202, "application/json", ResetLinkAccepted.self), problems: [400, 422, 429], request: ResetLinkRequest.self),
    ]

    /// The same answer whether or not the address has an account.
    struct ResetLinkAccepted: Codable, APIResponseBody {
        let detail: String
        static let answer = ResetLinkAccepted(detail: "If the address belongs to an account of this clinic, a link to set a new password is on its way.")
    }

    /// Any address is accepted (the answer reveals nothing); the tenant as for login.
    struct ResetLinkRequest: APIRequestBody {
        let tenant: String?
        let email: String
        static let email = TextField.singleLine(max: 254)
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["tenant": TextRules.storableString, "email": email.schema]
        }
    }

    /// Credentials are compared, not validated: a wrong one of any form answers 401.
    struct LoginRequest: APIRequestBody {
        let tenant: String?
        let email: String
        let password: String
        /// A current TOTP code or a recovery code, for accounts with a second factor.
        let totp: String?
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            let text = TextRules.storableString
            return ["tenant": text, "email": text, "password": text,
                    "totp": .string(description: "a current TOTP code or a recovery code", pattern: TextRules.storablePattern)]
        }
    }

    /// A code other than the authenticator's current one answers 422.
    struct CodeRequest: APIRequestBody {
        let code: String
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["code": .string(pattern: "^[0-9]{6}$")] }
    }
    struct RecoveryCodes: Codable, APIResponseBody {
        let recoveryCodes: [String]
        enum CodingKeys: String, CodingKey { case recoveryCodes = "recovery_codes" }
    }
    struct ResetRequest: APIRequestBody {
        let token: String
        let password: String
        static var schemaName: String { "PasswordResetRequest" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["token": TextRules.storableString, "password": PasswordPolicy(minimumLength: context.passwordMinimumLength).schema]
        }
    }

    struct RefreshRequest: APIRequestBody {
        let refreshToken: String
        enum CodingKeys: String, CodingKey { case refreshToken = "refresh_token" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["refresh_token": TextRules.storableString] }
    }

    struct Status: ResponseEncodable, Decodable, APIResponseBody {
        static var schemaName: String { "AuthStatus" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["session_expires_at": .dateTime] }
        struct User: Codable { let id: String; let email: String; let name: String }
        let user: User
        let tenant: String
        let roles: [String]
        let permissions: [String]
        let sessionExpiresAt: String
        enum CodingKeys: String, CodingKey {
            case user, tenant, roles, permissions
            case sessionExpiresAt = "session_expires_at"
        }
    }

    /// Binds login, refresh and password reset (open: no token) and logout, status and the
    /// second factor (staff: a token), as the operations declare.
    package func routes(_ routes: inout ModuleRoutes) {
        let identity = self.identity, naming = self.naming
        routes.on("login") { request, context -> Response in
            let body = try await request.decode(as: LoginRequest.self, context: context)
            let named = try naming.slug(of: request)
            guard let tenant = body.tenant ?? named else { throw TenancyError.missing }
            let grant = try await identity.login(
                tenant: tenant, email: body.email, password: body.password, secondFactor: body.totp,
                by: AuditActor(request, context)
            )
            return try JSONResponse.make(grant)
        }
        routes.on("refreshSession") { request, context -> Response in
            let body = try await request.decode(as: RefreshRequest.self, context: context)
            return try JSONResponse.make(try await identity.refresh(body.refreshToken, by: AuditActor(request, context)))
        }
        routes.on("logout") { request, context -> Response in
            try await identity.logout(try context.requirePrincipal(), by: AuditActor(request, context))
            return Response(status: .noContent)
        }
        routes.on("authStatus") { _, context -> Status in
            let principal = try context.requirePrincipal()
            return Status(
                user: .init(id: principal.userID, email: principal.email, name: principal.displayName), tenant: principal.tenant,
                roles: principal.roles, permissions: principal.permissions.sorted(),
                sessionExpiresAt: Timestamp.text(principal.sessionExpiresAt)
            )
        }
        routes.on("enrolSecondFactor") { request, context -> Response in
            try JSONResponse.make(try await identity.enrolSecondFactor(for: try context.requirePrincipal(), in: try context.requireTenant(),
                                                               by: AuditActor(request, context)))
        }
        routes.on("confirmSecondFactor") { request, context -> Response in
            let body = try await request.decode(as: CodeRequest.self, context: context)
            let codes = try await identity.confirmSecondFactor(code: body.code, for: try context.requirePrincipal(), in: try context.requireTenant(),
                                                               by: AuditActor(request, context))
            return try JSONResponse.make(RecoveryCodes(recoveryCodes: codes))
        }
        let resetMail = self.resetMail
        routes.on("requestPasswordReset") { request, context -> Response in
            let body = try await request.decode(as: ResetLinkRequest.self, context: context)
            var errors: [Problem.FieldError] = []
            ResetLinkRequest.email.check(body.email, "email", into: &errors)
            if !errors.isEmpty { throw IdentityError.invalidInput(errors) }
            let named = try naming.slug(of: request)
            guard let tenant = body.tenant ?? named else { throw TenancyError.missing }
            try await resetMail.request(email: body.email, tenant: tenant, by: AuditActor(request, context))
            return try JSONResponse.make(ResetLinkAccepted.answer, status: .accepted)
        }
        routes.on("resetPassword") { request, context -> Response in
            let body = try await request.decode(as: ResetRequest.self, context: context)
            try await identity.resetPassword(token: body.token, to: body.password, by: AuditActor(request, context))
            return Response(status: .noContent)
        }
    }
}
