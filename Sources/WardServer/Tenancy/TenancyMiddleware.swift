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
    let baseDomain: String?

    func handle(
        _ request: Request, context: WardRequestContext,
        next: (Request, WardRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let slug = tenantSlug(of: request) else { throw TenancyError.missing }
        var context = context
        context.tenant = try await tenants.activeScope(slug: slug)
        context.trace.tenantID = slug
        return try await next(request, context)
    }

    /// The slug the request names, header first.
    func tenantSlug(of request: Request) -> String? {
        if let header = request.headers[.tenantID], !header.isEmpty { return header.lowercased() }
        guard let baseDomain, let authority = request.head.authority else { return nil }
        let host = authority.split(separator: ":").first.map { $0.lowercased() } ?? ""
        let suffix = "." + baseDomain
        guard host.hasSuffix(suffix) else { return nil }
        let label = host.dropLast(suffix.count)
        return label.isEmpty || label.contains(".") ? nil : String(label)
    }
}

/// A tenant route reached without naming a tenant.
enum TenancyError: Error, ProblemConvertible {
    case missing

    var problem: Problem {
        Problem(status: 400, title: "Tenant required", detail: "Name the tenant in the X-Tenant-ID header or the host's subdomain.")
    }
}
