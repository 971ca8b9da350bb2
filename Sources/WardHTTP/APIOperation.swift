import OpenAPIKit
/// One operation of Ward's HTTP API as the OpenAPI document describes it. A module declares its
/// operations, and binds a handler to each by its name (`ModuleRoutes`); the declaration is
/// what the document shows and what `OperationGuard` enforces.
package struct APIOperation: Sendable {
    package enum Method: String, Sendable { case get, post, put, patch, delete }

    /// Who may call an operation, which decides the middleware in front of its handler.
    package enum Access: Sendable, Hashable {
        /// Anyone: probes, the document, logging in.
        case open
        /// A tenant named by `X-Tenant-ID` or the subdomain, resolved and active; no caller.
        case tenant
        /// A tenant's staff member with an access token (the token names the tenant).
        case staff
        /// A control-plane administrator.
        case platformAdmin
    }

    /// The operation's name, unique in the API (the document's `operationId`): handlers are
    /// bound to it.
    package var name: String
    package var method: Method
    /// The path template with `{name}` parameters, as the router registers it.
    package var path: String
    package var summary: String
    package var tag: String
    /// Who may call it.
    package var access: Access
    /// Whether the operation acts inside a tenant (named by `X-Tenant-ID` or the subdomain).
    package var tenantScoped: Bool { access == .tenant || access == .staff }
    /// The permission the caller needs, when any.
    package var permission: String?
    /// The success status, and the media type and type of its body.
    package var success: (status: Int, mediaType: String, schema: (any APISchema.Type)?)
    /// The error statuses the operation can answer with problem+json.
    package var problems: [Int]
    /// The path parameter naming a patient, when a break-glass grant for that patient may stand
    /// in for the permission.
    package var breakGlassParameter: String?
    /// The type of the JSON request body, when the operation takes one.
    package var request: (any APIRequestBody.Type)?
    /// The shape of its schema, which the body decoder enforces (`withBodyShape(from:)`, done
    /// by the node once every schema is built).
    package var requestShape: BodyShape?
    /// Whether the request body may be left out (the operation then acts on defaults).
    package var requestOptional = false
    /// The query parameters the operation reads, checked at the edge.
    package var query: [QueryParameter] = []
    /// Whether the operation reads `If-Match`: nil when it does not, else whether it is required.
    package var ifMatch: Bool?
    /// Whether the success response carries an `ETag` (the version to send as `If-Match`).
    package var returnsETag = false
    /// Other media types the success response may have, chosen by a query parameter.
    package var alternativeMediaTypes: [String] = []
    /// The media types of a raw (non-JSON) request body the operation streams, when it takes one.
    package var uploadMediaTypes: [String] = []
    /// Whether the operation serves byte ranges (206, 416) and revalidation (304).
    package var servesRanges = false
    /// The rate-limit policy each caller's use of the operation counts against, when any.
    package var rateLimit: String?

    package init(
        _ name: String, _ method: Method, _ path: String, summary: String, tag: String, access: Access = .open,
        permission: String? = nil, success: (status: Int, mediaType: String, schema: (any APISchema.Type)?) = (200, "application/json", nil),
        problems: [Int] = [], breakGlassParameter: String? = nil, request: (any APIRequestBody.Type)? = nil
    ) {
        self.name = name
        self.breakGlassParameter = breakGlassParameter
        self.request = request
        self.method = method
        self.path = path
        self.summary = summary
        self.tag = tag
        self.access = access
        self.permission = permission
        self.success = success
        self.problems = problems
    }
}

extension APIOperation {
    /// The operation reading these query parameters.
    package func query(_ parameters: QueryParameter...) -> APIOperation {
        query(parameters)
    }

    package func query(_ parameters: [QueryParameter]) -> APIOperation {
        var operation = self
        operation.query += parameters
        return operation
    }

    /// The operation answering with an `ETag` and, when `ifMatch` is given, reading `If-Match`
    /// (required, or optional).
    package func versioned(ifMatch: Bool? = nil) -> APIOperation {
        var operation = self
        operation.returnsETag = true
        operation.ifMatch = ifMatch
        return operation
    }

    /// The operation taking a raw body of one of `mediaTypes`, streamed rather than decoded.
    package func uploading(_ mediaTypes: [String]) -> APIOperation {
        var operation = self
        operation.uploadMediaTypes = mediaTypes
        return operation
    }

    /// The operation answering `Range` with 206 (416 when unsatisfiable) and `If-None-Match`
    /// with 304.
    package func rangeable() -> APIOperation {
        var operation = self
        operation.servesRanges = true
        return operation
    }

    /// The operation counted against the rate-limit policy `policy` per signed-in user (429
    /// with `Retry-After` beyond it; `RateLimit` and `RateLimit-Policy` on its successes and refusals).
    package func limited(as policy: String) -> APIOperation {
        var operation = self
        operation.rateLimit = policy
        if !operation.problems.contains(429) { operation.problems.append(429) }
        return operation
    }

    /// The operation with the 429 its rate-limit policies can answer: every API operation but
    /// the probes (`address` without credentials, `user` or `platform` with them).
    package func rateLimited() -> APIOperation {
        guard path.hasPrefix("/api/") || path.hasPrefix("/platform/"), !problems.contains(429) else { return self }
        var operation = self
        operation.problems.append(429)
        return operation
    }

    /// The operation whose request body may be left out.
    package func optionalBody() -> APIOperation {
        var operation = self
        operation.requestOptional = true
        return operation
    }

    /// Adds the schemas of the operation's bodies to `builder`.
    package func addSchemas(to builder: inout SchemaBuilder) {
        if let request { _ = builder.reference(to: request) }
        if let schema = success.schema { _ = builder.reference(to: schema) }
    }

    /// The operation with the shape of its request body, from the schemas `builder` holds.
    package func withBodyShape(from builder: SchemaBuilder) -> APIOperation {
        guard let request else { return self }
        var operation = self
        operation.requestShape = BodyShape(schema: .reference(.component(named: request.schemaName)), components: builder.components)
        return operation
    }

    /// The operation whose success may also be of `mediaType`.
    package func alsoAnswering(_ mediaType: String) -> APIOperation {
        alsoAnswering([mediaType])
    }

    package func alsoAnswering(_ mediaTypes: [String]) -> APIOperation {
        var operation = self
        operation.alternativeMediaTypes += mediaTypes
        return operation
    }

    /// The path's parameters with their formats, by name: `id` is a Ward id, `slug` a tenant's
    /// slug, `name` and `role` a role's name.
    package var pathParameters: [(name: String, format: ParameterFormat)] {
        path.split(separator: "/").compactMap { component in
            guard component.hasPrefix("{"), component.hasSuffix("}") else { return nil }
            let name = String(component.dropFirst().dropLast())
            return (name, Self.pathFormat(of: name))
        }
    }

    static func pathFormat(of name: String) -> ParameterFormat {
        switch name {
        case "slug": .slug
        case "name", "role": .roleName
        default: .uuid
        }
    }

    /// Whether `path` (a request's) matches this operation's template.
    package func matches(path requestPath: Substring) -> Bool {
        let template = path.split(separator: "/", omittingEmptySubsequences: false)
        let components = requestPath.split(separator: "/", omittingEmptySubsequences: false)
        guard template.count == components.count else { return false }
        for (expected, actual) in zip(template, components) {
            if expected.hasPrefix("{") { if actual.isEmpty { return false } } else if expected != actual { return false }
        }
        return true
    }
}
