import Foundation
import HTTPTypes
package import Hummingbird
import WardAudit
import WardCore
package import WardHTTP

/// `/api/v1/auth`: login, refresh, logout and the caller's status.
package struct AuthController: Sendable {
    let identity: IdentityService
    let naming: TenantNaming

    package init(identity: IdentityService, naming: TenantNaming) {
        self.identity = identity
        self.naming = naming
    }

    package static let operations: [APIOperation] = [
        APIOperation("login", .post, "/api/v1/auth/login", summary: "Log in with email and password (the tenant in the body, X-Tenant-ID or the subdomain)", tag: "identity",
                     success: (200, "application/json", "TokenGrant"), problems: [400, 401, 422, 429], request: "LoginRequest"),
        APIOperation("refreshSession", .post, "/api/v1/auth/refresh", summary: "Exchange a refresh token for new tokens (rotates it)", tag: "identity",
                     success: (200, "application/json", "TokenGrant"), problems: [400, 401], request: "RefreshRequest"),
        APIOperation("logout", .post, "/api/v1/auth/logout", summary: "End this session", tag: "identity", access: .staff,
                     success: (204, "application/json", nil), problems: [401]),
        APIOperation("authStatus", .get, "/api/v1/auth/status", summary: "The caller, tenant, roles, permissions and session expiry", tag: "identity",
                     access: .staff, success: (200, "application/json", "AuthStatus"), problems: [401]),
        APIOperation("enrolSecondFactor", .post, "/api/v1/auth/totp/enrol", summary: "Start enrolling a TOTP second factor", tag: "identity", access: .staff,
                     success: (200, "application/json", "TOTPEnrolment"), problems: [401, 409]),
        APIOperation("confirmSecondFactor", .post, "/api/v1/auth/totp/confirm", summary: "Confirm the second factor with a current code; returns recovery codes",
                     tag: "identity", access: .staff, success: (200, "application/json", "RecoveryCodes"), problems: [400, 401, 409, 422], request: "CodeRequest"),
        APIOperation("resetPassword", .post, "/api/v1/auth/password-reset", summary: "Set a new password with a one-time reset token", tag: "identity",
                     success: (204, "application/json", nil), problems: [400, 401, 422], request: "PasswordResetRequest"),
    ]

    /// The schemas of these operations, with passwords as `policy` has them.
    package static func schemas(policy: PasswordPolicy = .standard) -> [String: Any] {
        [
            // Credentials are compared, not validated: a wrong one of any form answers 401.
            "LoginRequest": RequestSchema.object([
                "tenant": TextRules.storableString, "email": TextRules.storableString, "password": TextRules.storableString,
                "totp": TextRules.storableString.merging(["description": "a current TOTP code or a recovery code"]) { $1 },
            ], required: ["email", "password"]),
            "RefreshRequest": RequestSchema.object(["refresh_token": TextRules.storableString], required: ["refresh_token"]),
            // A code other than the authenticator's current one answers 422.
            "CodeRequest": RequestSchema.object(["code": ["type": "string", "pattern": "^[0-9]{6}$"]], required: ["code"]),
            "PasswordResetRequest": RequestSchema.object(["token": TextRules.storableString, "password": policy.schema], required: ["token", "password"]),
            "TokenGrant": [
                "type": "object", "required": ["access_token", "token_type", "expires_in", "refresh_token"],
                "properties": [
                    "access_token": ["type": "string"], "token_type": ["type": "string", "enum": ["Bearer"]],
                    "expires_in": ["type": "integer"], "refresh_token": ["type": "string"],
                    "session_expires_at": ["type": "string", "format": "date-time"],
                ],
            ],
            "TOTPEnrolment": [
                "type": "object", "required": ["secret", "otpauth_uri"],
                "properties": ["secret": ["type": "string", "description": "base32"], "otpauth_uri": ["type": "string"]],
            ],
            "RecoveryCodes": [
                "type": "object", "required": ["recovery_codes"],
                "properties": ["recovery_codes": ["type": "array", "items": ["type": "string"]]],
            ],
            "AuthStatus": [
                "type": "object", "required": ["user", "tenant", "roles", "permissions", "session_expires_at"],
                "properties": [
                    "user": ["type": "object", "properties": ["id": ["type": "string"], "email": ["type": "string"], "name": ["type": "string"]]],
                    "tenant": ["type": "string"], "roles": ["type": "array", "items": ["type": "string"]],
                    "permissions": ["type": "array", "items": ["type": "string"]], "session_expires_at": ["type": "string", "format": "date-time"],
                ],
            ],
        ]
    }

    struct LoginRequest: Decodable {
        let tenant: String?
        let email: String
        let password: String
        /// A current TOTP code or a recovery code, for accounts with a second factor.
        let totp: String?
    }

    struct CodeRequest: Decodable { let code: String }
    struct RecoveryCodes: Encodable {
        let recoveryCodes: [String]
        enum CodingKeys: String, CodingKey { case recoveryCodes = "recovery_codes" }
    }
    struct ResetRequest: Decodable { let token: String; let password: String }

    struct RefreshRequest: Decodable {
        let refreshToken: String
        enum CodingKeys: String, CodingKey { case refreshToken = "refresh_token" }
    }

    struct Status: ResponseEncodable {
        struct User: Encodable { let id: String; let email: String; let name: String }
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
        routes.on("resetPassword") { request, context -> Response in
            let body = try await request.decode(as: ResetRequest.self, context: context)
            try await identity.resetPassword(token: body.token, to: body.password, by: AuditActor(request, context))
            return Response(status: .noContent)
        }
    }
}
