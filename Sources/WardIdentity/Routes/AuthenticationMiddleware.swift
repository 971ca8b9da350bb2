import HTTPTypes
package import Hummingbird
import WardAudit
import WardCore
package import WardHTTP
import WardStorage

/// Authenticates tenant routes: a Bearer access token gives the principal, and the token's
/// tenant becomes the request's tenant. A request that also names a tenant (header or
/// subdomain) must name the same one: a token of tenant A never reaches tenant B.
package struct AuthenticationMiddleware: RouterMiddleware {
    package typealias Context = WardRequestContext

    let identity: IdentityService
    let naming: TenantNaming

    package init(identity: IdentityService, naming: TenantNaming) {
        self.identity = identity
        self.naming = naming
    }

    package func handle(
        _ request: Request, context: WardRequestContext,
        next: (Request, WardRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let token = request.bearerToken else {
            throw IdentityError.unauthenticated("Send an access token as `Authorization: Bearer <token>`.")
        }
        let principal = try await identity.principal(forAccessToken: token)
        if let named = try naming.slug(of: request), named != principal.tenant { throw IdentityError.wrongTenant }
        var context = context
        context.tenant = try await identity.tenants.activeScope(slug: principal.tenant)
        context.principal = principal
        let audit = identity.audit, scope = context.tenant!
        let actor = AuditActor(request, context)
        context.recordDenial = { permission, route in
            try await audit.record(actor.record("access", resourceType: route, outcome: .denied, details: ["permission": permission]), in: scope)
        }
        let breakGlass = identity.breakGlass, userID = principal.userID
        context.breakGlassCheck = { patientID in try await breakGlass.activeGrant(userID: userID, patientID: patientID, in: scope) }
        context.trace.tenantID = principal.tenant
        context.trace.userID = principal.userID
        return try await next(request, context)
    }
}
