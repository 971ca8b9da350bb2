import Hummingbird
import WardAudit
import WardHTTP

/// `/api/v1/tenant/cors-origins`: the browser origins a clinic allows to call its API (a
/// patient portal, a kiosk app), read and replaced by its administrator.
struct OriginsController {
    let origins: TenantOrigins

    static let operations: [APIOperation] = [
        APIOperation("tenantCORSOrigins", .get, "/api/v1/tenant/cors-origins", summary: "The browser origins allowed to call this clinic's API",
                     tag: "tenancy", access: .staff, permission: "tenant:configure", success: (200, "application/json", CORSOrigins.self),
                     problems: [401, 403]),
        APIOperation("replaceTenantCORSOrigins", .put, "/api/v1/tenant/cors-origins",
                     summary: "Replace the browser origins allowed to call this clinic's API with credentials (scheme, host and port; no wildcard)",
                     tag: "tenancy", access: .staff, permission: "tenant:configure", success: (200, "application/json", CORSOrigins.self),
                     problems: [400, 401, 403, 415, 422], request: CORSOrigins.self),
    ]

    func routes(_ routes: inout ModuleRoutes) {
        let origins = self.origins
        routes.on("tenantCORSOrigins") { _, context -> Response in
            try JSONResponse.make(CORSOrigins(origins: try await origins.origins(of: try context.requireTenant().tenant.slug).sorted()))
        }
        routes.on("replaceTenantCORSOrigins") { request, context -> Response in
            let body = try await request.decode(as: CORSOrigins.self, context: context)
            return try JSONResponse.make(CORSOrigins(origins: try await origins.replace(body.origins, in: try context.requireTenant(), by: AuditActor(request, context))))
        }
    }
}
