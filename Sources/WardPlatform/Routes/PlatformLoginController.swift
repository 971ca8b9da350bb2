import Foundation
import HTTPTypes
package import Hummingbird
import WardCore
package import WardHTTP
package import WardIdentity

/// `/platform/v1/auth/login`: a control-plane administrator logs in.
package struct PlatformLoginController: Sendable {
    let identity: IdentityService

    package init(identity: IdentityService) {
        self.identity = identity
    }

    package static let operations: [APIOperation] = [
        APIOperation("platformLogin", .post, "/platform/v1/auth/login", summary: "Log a control-plane administrator in", tag: "platform",
                     success: (200, "application/json", "PlatformTokenGrant"), problems: [400, 401, 429], request: "PlatformLogin"),
    ]

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

    package func routes(_ routes: inout ModuleRoutes) {
        let identity = self.identity
        routes.on("platformLogin") { request, context -> Response in
            let body = try await request.decode(as: LoginRequest.self, context: context)
            return try JSONResponse.make(try await identity.platformLogin(email: body.email, password: body.password, client: context.clientAddress))
        }
    }
}
