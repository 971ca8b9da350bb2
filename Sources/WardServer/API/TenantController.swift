import Hummingbird
import WardHTTP
import NIOCore
import OpenAPIKit
import WardStorage

/// `/api/v1/tenant`: which tenant a request resolved to (its slug, name and time zone), so a
/// client can check it reached the clinic it meant to.
struct TenantController {
    static let operations: [APIOperation] = [
        APIOperation("currentTenant", .get, "/api/v1/tenant", summary: "The tenant this request acts in", tag: "tenancy",
                     access: .tenant, success: (200, "application/json", Summary.self), problems: [400, 403, 404]),
    ]

    struct Summary: ResponseEncodable, Decodable, APIResponseBody {
        static var schemaName: String { "TenantSummary" }
        let slug: String
        let name: String
        let timeZone: String
        enum CodingKeys: String, CodingKey { case slug, name, timeZone = "time_zone" }
    }

    func routes(_ routes: inout ModuleRoutes) {
        routes.on("currentTenant") { _, context in
            let tenant = try context.requireTenant().tenant
            return Summary(slug: tenant.slug, name: tenant.name, timeZone: tenant.timeZone)
        }
    }
}
