package import Foundation
import OpenAPIKit
package import WardHTTP

/// Ward's OpenAPI 3.1 document, assembled from every module's operations and the schemas of
/// their bodies (`SchemaBuilder`), and served at `/api/openapi.json`.
package enum OpenAPIDocument {
    /// The document as JSON bytes.
    package static func render(operations: [APIOperation], schemas: SchemaBuilder, version: String) throws -> Data {
        var paths = OrderedDictionary<String, OpenAPI.PathItem>()
        for operation in operations {
            paths[operation.path, default: OpenAPI.PathItem()].set(operation: try entry(operation), for: operation.method.openAPI)
        }
        var problemResponses = OpenAPIKit.OrderedDictionary<OpenAPI.ComponentKey, Either<OpenAPI.Reference<OpenAPI.Response>, OpenAPI.Response>>()
        for status in Set(operations.flatMap { $0.problems + implicitProblems(of: $0) }).sorted() {
            problemResponses[try key("Problem\(status)")] = .b(OpenAPI.Response(
                description: HTTPStatusText.text(status),
                content: [try mediaType("application/problem+json"): .b(OpenAPI.Content(schema: .reference(.component(named: "Problem"))))]
            ))
        }
        var components = OpenAPIKit.OrderedDictionary<OpenAPI.ComponentKey, JSONSchema>()
        for (name, schema) in schemas.components { components[try key(name)] = schema }
        components["Problem"] = problemSchema
        var pathItems = OpenAPI.PathItem.Map()
        for (path, item) in paths { pathItems[OpenAPI.Path(rawValue: path)] = .b(item) }
        let document = OpenAPI.Document(
            openAPIVersion: .v3_1_0,
            info: .init(title: "Ward", description: "Multi-tenant hospital management server. Errors are RFC 9457 problem documents.", version: version),
            servers: [],
            paths: pathItems,
            components: OpenAPI.Components(
                schemas: components,
                responses: problemResponses,
                parameters: ["TenantID": .b(.header(
                    name: "X-Tenant-ID", required: false, schema: ParameterFormat.slug.schema,
                    description: "The tenant's slug; may instead be given as the subdomain of the base domain."
                ))]
            )
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(document)
    }

    private static func entry(_ operation: APIOperation) throws -> OpenAPI.Operation {
        var media = OpenAPI.Content.Map()
        let successSchema: JSONSchema? = if let schema = operation.success.schema {
            .reference(.component(named: schema.schemaName))
        } else if operation.success.mediaType.hasPrefix("text/") {
            .string
        } else {
            nil
        }
        media[try mediaType(operation.success.mediaType)] = .b(OpenAPI.Content(schema: successSchema))
        for alternative in operation.alternativeMediaTypes {
            media[try mediaType(alternative)] = .b(OpenAPI.Content(schema: alternative.hasPrefix("text/") ? .string : nil))
        }
        let headers: OpenAPI.Header.Map? = operation.returnsETag ? [
            "ETag": .b(OpenAPI.Header(schema: .string, description: "The version of the resource, to send as If-Match when changing it")),
        ] : nil
        // 204 No Content has no body, hence no media type.
        var responses = OpenAPI.Response.Map()
        responses[OpenAPI.Response.StatusCode(integerLiteral: operation.success.status)] = .b(OpenAPI.Response(
            description: "Success", headers: headers, content: operation.success.status == 204 ? [:] : media
        ))
        if operation.servesRanges {
            responses[OpenAPI.Response.StatusCode(integerLiteral: 206)] = .b(OpenAPI.Response(
                description: "The byte range asked for (Content-Range says which)", content: media
            ))
            responses[OpenAPI.Response.StatusCode(integerLiteral: 304)] = .b(OpenAPI.Response(description: "Not modified: If-None-Match names the current ETag"))
        }
        for status in Set(operation.problems + implicitProblems(of: operation)).sorted() {
            responses[OpenAPI.Response.StatusCode(integerLiteral: status)] = .a(.component(named: "Problem\(status)"))
        }
        var parameters: OpenAPI.Parameter.Array = operation.pathParameters.map { .b(.path(name: $0.name, schema: $0.format.schema)) }
        parameters += operation.query.map { .b(.query(name: $0.name, required: $0.required, schema: $0.format.schema, description: $0.summary)) }
        if let required = operation.ifMatch {
            parameters.append(.b(.header(
                name: "If-Match", required: required, schema: .string(pattern: IfMatch.pattern),
                description: "The ETag of the version read: the change applies only to that version (412 otherwise)"
            )))
        }
        if operation.tenantScoped { parameters.append(.a(.component(named: "TenantID"))) }
        var body: OpenAPI.Request? = operation.request.map { type in
            OpenAPI.Request(content: [.json: .b(OpenAPI.Content(schema: .reference(.component(named: type.schemaName))))],
                            required: !operation.requestOptional)
        }
        if !operation.uploadMediaTypes.isEmpty {
            var content = OpenAPI.Content.Map()
            for type in operation.uploadMediaTypes { content[try mediaType(type)] = .b(OpenAPI.Content(schema: nil)) }
            body = OpenAPI.Request(description: "The document's bytes, as its Content-Type says", content: content, required: true)
        }
        return OpenAPI.Operation(
            tags: [operation.tag], summary: operation.summary, operationId: operation.name, parameters: parameters,
            requestBody: body, responses: responses,
            vendorExtensions: operation.permission.map { ["x-permission": AnyCodable($0)] } ?? [:]
        )
    }

    private static func key(_ name: String) throws -> OpenAPI.ComponentKey {
        guard let key = OpenAPI.ComponentKey(rawValue: name) else { throw DocumentError(message: "\(name) cannot name a component") }
        return key
    }

    private static func mediaType(_ name: String) throws -> OpenAPI.ContentType {
        guard let type = OpenAPI.ContentType(rawValue: name) else { throw DocumentError(message: "\(name) is not a media type") }
        return type
    }

    struct DocumentError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// The statuses every operation of its kind can answer, whatever it declares: 500 always;
    /// 400 for a parameter of the wrong form; for a body, 400 when it is not JSON, 415 when it
    /// is not sent as JSON and 422 when it holds a control character or departs from its
    /// schema's shape (`BodyShape`); for `If-Match`, 400 when malformed, 412 when stale and,
    /// where it is required, 428 when missing; in a tenant, 400 for an `X-Tenant-ID` that is
    /// not a slug and 403 for a suspended tenant or one other than the token's; 413 and 503 at
    /// the edge.
    static func implicitProblems(of operation: APIOperation) -> [Int] {
        var statuses = [413, 500, 503]
        if operation.tenantScoped { statuses += [400, 403] }
        if !operation.pathParameters.isEmpty || !operation.query.isEmpty { statuses.append(400) }
        if operation.request != nil { statuses += [400, 415, 422] }
        if !operation.uploadMediaTypes.isEmpty { statuses += [413, 415, 422] }
        if operation.servesRanges { statuses.append(416) }
        if let required = operation.ifMatch { statuses += required ? [400, 412, 428] : [400, 412] }
        return statuses
    }

    static var problemSchema: JSONSchema {
        .object(properties: [
            "type": .string, "title": .string, "status": .integer,
            "detail": .string(required: false), "request_id": .string(required: false),
            "errors": .array(required: false, items: .object(properties: ["field": .string, "message": .string])),
        ])
    }
}

extension APIOperation.Method {
    var openAPI: OpenAPI.HttpMethod {
        switch self {
        case .get: .get
        case .post: .post
        case .put: .put
        case .patch: .patch
        case .delete: .delete
        }
    }
}

/// Reason phrases for the statuses Ward documents.
enum HTTPStatusText {
    static func text(_ status: Int) -> String {
        switch status {
        case 400: "Bad request"
        case 401: "Not authenticated"
        case 403: "Forbidden"
        case 404: "Not found"
        case 409: "Conflict"
        case 412: "Precondition failed"
        case 413: "Request body too large"
        case 415: "Unsupported media type"
        case 422: "Invalid input"
        case 428: "Precondition required"
        case 429: "Too many requests"
        case 503: "Unavailable"
        default: "Internal server error"
        }
    }
}
