import Foundation
import HTTPTypes
package import Hummingbird
import WardCore
package import WardHTTP
package import WardIdentity
import OpenAPIKit

/// `/platform/v1/auth/login`: a control-plane administrator logs in.
package struct PlatformLoginController: Sendable {
    let identity: IdentityService

    package init(identity: IdentityService) {
        self.identity = identity
    }

    package static let operations: [APIOperation] = [
        APIOperation("platformLogin", .post, "/platform/v1/auth/login", summary: "Log a control-plane administrator in", tag: "platform",
                     success: (200, "application/json", IdentityService.PlatformGrant.self), problems: [400, 401, 429], request: LoginRequest.self),
    ]

    /// Credentials are compared, not validated: a wrong one of any form answers 401.
    struct LoginRequest: APIRequestBody {
        let email: String
        let password: String
        static var schemaName: String { "PlatformLogin" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["email": TextRules.storableString, "password": TextRules.storableString]
        }
    }

    package func routes(_ routes: inout ModuleRoutes) {
        let identity = self.identity
        routes.on("platformLogin") { request, context -> Response in
            let body = try await request.decode(as: LoginRequest.self, context: context)
            return try JSONResponse.make(try await identity.platformLogin(email: body.email, password: body.password, client: context.clientAddress))
        }
    }
}
