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
