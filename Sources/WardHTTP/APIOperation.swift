/// One operation of Ward's HTTP API as the OpenAPI document describes it. Each controller lists
/// its operations beside the code that registers them; a test checks the two agree.
package struct APIOperation: Sendable {
    package enum Method: String, Sendable { case get, post, put, patch, delete }

    package var method: Method
    /// The path template with `{name}` parameters, as the router registers it.
    package var path: String
    package var summary: String
    package var tag: String
    /// Whether the operation acts inside a tenant (named by `X-Tenant-ID` or the subdomain).
    package var tenantScoped: Bool
    /// The permission the caller needs, when any.
    package var permission: String?
    /// The success status and the media type and schema name of its body.
    package var success: (status: Int, mediaType: String, schema: String?)
    /// The error statuses the operation can answer with problem+json.
    package var problems: [Int]
    /// The path parameter naming a patient, when a break-glass grant for that patient may stand
    /// in for the permission.
    package var breakGlassParameter: String?
    /// The schema of the JSON request body, when the operation takes one.
    package var request: String?

    package init(
        _ method: Method, _ path: String, summary: String, tag: String, tenantScoped: Bool = false,
        permission: String? = nil, success: (status: Int, mediaType: String, schema: String?) = (200, "application/json", nil),
        problems: [Int] = [], breakGlassParameter: String? = nil, request: String? = nil
    ) {
        self.breakGlassParameter = breakGlassParameter
        self.request = request
        self.method = method
        self.path = path
        self.summary = summary
        self.tag = tag
        self.tenantScoped = tenantScoped
        self.permission = permission
        self.success = success
        self.problems = problems
    }
}
