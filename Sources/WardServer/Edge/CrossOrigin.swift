import HTTPTypes
import Hummingbird
import WardCore
import WardHTTP
import WardPlatform

/// CORS for the API, as the Fetch standard has a browser check it: an origin named in
/// `WARD_CORS_ORIGINS` (every clinic) or by the clinic the request acts in may call the API
/// with credentials; the answer then names that exact origin (never `*`, which credentials
/// forbid) and says `Vary: Origin`. A preflight carries no credentials and no tenant header,
/// so it is answered without authentication: for the clinic of the subdomain when there is one,
/// else for an origin some clinic allows; the request that follows is held to its own clinic's
/// list. The web app is same-origin and takes no part.
struct CrossOrigin: Sendable {
    let nodeOrigins: Set<String>
    let tenants: TenantOrigins?
    let naming: TenantNaming

    static let methods = "GET, POST, PUT, PATCH, DELETE"
    static let allowedMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
    static let headers = "Authorization, Content-Type, If-Match, If-None-Match, Range, X-Tenant-ID, X-Request-ID, Idempotency-Key"
    static let allowedHeaders: Set<String> = ["authorization", "content-type", "if-match", "if-none-match", "range", "x-tenant-id", "x-request-id",
                                              "idempotency-key"]
    static let exposed = "ETag, Location, Retry-After, RateLimit, RateLimit-Policy, X-Request-ID, Content-Disposition, Content-Range"
    static let requestMethod = HTTPField.Name("Access-Control-Request-Method")!
    static let requestHeaders = HTTPField.Name("Access-Control-Request-Headers")!

    /// Whether the path is one CORS applies to.
    static func applies(to path: String) -> Bool { path.hasPrefix("/api/") || path.hasPrefix("/platform/") }

    /// Whether `request` is a CORS preflight.
    static func isPreflight(_ request: Request) -> Bool {
        request.method == .options && request.headers[requestMethod] != nil && request.headers[.origin] != nil
    }

    /// The preflight's answer: 204 with the grants, or 403 when the origin, the method or a
    /// header is not allowed (a browser then refuses the request itself).
    func preflight(_ request: Request, requestID: String) async -> Response {
        let origin = request.headers[.origin] ?? ""
        let method = request.headers[Self.requestMethod]?.trimmingCharacters(in: .whitespaces).uppercased() ?? ""
        let asked = (request.headers[Self.requestHeaders] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            .filter { !$0.isEmpty }
        var vary: HTTPFields = [.vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"]
        let tenant = try? naming.slug(of: request)
        guard await allows(origin, tenant: tenant, preflight: !request.uri.path.hasPrefix("/platform/")),
              Self.allowedMethods.contains(method), asked.allSatisfy(Self.allowedHeaders.contains) else {
            var problem = Problem(status: 403, title: "Cross-origin request refused",
                                  detail: "This origin, method or header may not call the API from a browser.")
            problem.requestID = requestID
            return ProblemRendering.response(for: problem, headers: vary)
        }
        vary[.accessControlAllowOrigin] = origin
        vary[.accessControlAllowCredentials] = "true"
        vary[.accessControlAllowMethods] = Self.methods
        vary[.accessControlAllowHeaders] = Self.headers
        vary[.accessControlMaxAge] = "600"
        return Response(status: .noContent, headers: vary)
    }

    /// Adds the grant to an API answer for an allowed origin; `Vary: Origin` either way.
    func decorate(_ response: inout Response, origin: String, tenant: String?) async {
        response.headers.append(HTTPField(name: .vary, value: "Origin"))
        guard await allows(origin, tenant: tenant, preflight: false) else { return }
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlAllowCredentials] = "true"
        response.headers[.accessControlExposeHeaders] = Self.exposed
    }

    /// Whether `origin` may call: it is named for every clinic, or by `tenant`, or (a preflight
    /// naming no clinic) by some clinic.
    private func allows(_ origin: String, tenant: String?, preflight: Bool) async -> Bool {
        guard let origin = HostRules.origin(origin) else { return false }
        if nodeOrigins.contains(origin) { return true }
        guard let tenants else { return false }
        if let tenant { return (try? await tenants.origins(of: tenant).contains(origin)) ?? false }
        return preflight ? ((try? await tenants.allowedByAnyTenant(origin)) ?? false) : false
    }
}
