import HTTPTypes
import Hummingbird
import WardCore
import WardHTTP
import WardStorage

/// Resolves the tenant of a tenant route from the `X-Tenant-ID` header or the subdomain of
/// the base domain, and puts its scope in the context. Unknown tenants answer 404, suspended
/// ones 403; nothing below this middleware runs without a tenant.
struct TenancyMiddleware: RouterMiddleware {
    typealias Context = WardRequestContext

    let tenants: TenantDirectory
    let naming: TenantNaming

    func handle(
        _ request: Request, context: WardRequestContext,
        next: (Request, WardRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let slug = try naming.slug(of: request) else { throw TenancyError.missing }
        var context = context
        context.tenant = try await tenants.activeScope(slug: slug)
        context.trace.tenantID = slug
        return try await next(request, context)
    }
}
