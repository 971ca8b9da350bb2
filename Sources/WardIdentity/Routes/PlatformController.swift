import Foundation
import HTTPTypes
package import Hummingbird
import WardCore
package import WardHTTP
import WardStorage

/// Authenticates `/platform/v1` routes with a control-plane administrator's token. Tenant
/// tokens carry another audience and are refused here, as platform tokens are on tenant routes.
package struct PlatformAuthenticationMiddleware: RouterMiddleware {
    package typealias Context = WardRequestContext
    let identity: IdentityService

    package init(identity: IdentityService) {
        self.identity = identity
    }

    package func handle(
        _ request: Request, context: WardRequestContext,
        next: (Request, WardRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let token = request.bearerToken else {
            throw IdentityError.unauthenticated("Send a platform access token as `Authorization: Bearer <token>`.")
        }
        var context = context
        context.platformAdminID = try await identity.platformAdmin(forAccessToken: token)
        context.trace.userID = context.platformAdminID
        return try await next(request, context)
    }
}

/// `/platform/v1`: the control plane's API for its administrators.
package struct PlatformController: Sendable {
    let identity: IdentityService

    package init(identity: IdentityService) {
        self.identity = identity
    }

    package static let operations: [APIOperation] = [
        APIOperation(.post, "/platform/v1/auth/login", summary: "Log a control-plane administrator in", tag: "platform",
                     success: (200, "application/json", "PlatformTokenGrant"), problems: [400, 401, 429], request: "PlatformLogin"),
    ].withBodyShapes(from: schemas)

    package static var schemas: [String: Any] {
        [
            // Credentials are compared, not validated: a wrong one of any form answers 401.
            "PlatformLogin": RequestSchema.object(["email": TextRules.storableString, "password": TextRules.storableString],
                                                  required: ["email", "password"]),
            "PlatformTokenGrant": [
                "type": "object", "required": ["access_token", "token_type", "expires_in"],
                "properties": ["access_token": ["type": "string"], "token_type": ["type": "string"], "expires_in": ["type": "integer"]],
            ],
        ]
    }

    struct LoginRequest: Decodable { let email: String; let password: String }

    package func register(public platform: RouterGroup<WardRequestContext>, prefix: String) {
        let identity = self.identity
        platform.add(Self.operations[0], prefix: prefix) { request, context -> Response in
            let body = try await request.decode(as: LoginRequest.self, context: context)
            return try JSONResponse.make(try await identity.platformLogin(email: body.email, password: body.password, client: context.clientAddress))
        }
    }
}
