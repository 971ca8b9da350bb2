package import Foundation
package import WardHTTP

/// Ward's OpenAPI 3.1 document, assembled from every controller's operations and schemas and
/// served at `/api/openapi.json`.
package enum OpenAPIDocument {
    /// The document as JSON bytes.
    package static func render(operations: [APIOperation], schemas: [String: Any], version: String) throws -> Data {
        var paths: [String: [String: Any]] = [:]
        for operation in operations {
            var responses: [String: Any] = [:]
            var success: [String: Any] = ["description": "Success"]
            var content: [String: Any] = [:]
            if let schema = operation.success.schema {
                content["schema"] = ["$ref": "#/components/schemas/\(schema)"]
            } else if operation.success.mediaType.hasPrefix("text/") {
                content["schema"] = ["type": "string"]
            }
            var media: [String: Any] = [operation.success.mediaType: content]
            for alternative in operation.alternativeMediaTypes {
                media[alternative] = alternative.hasPrefix("text/") ? ["schema": ["type": "string"]] : [:]
            }
            // 204 No Content has no body, hence no media type.
            if operation.success.status != 204 { success["content"] = media }
            if operation.returnsETag {
                success["headers"] = ["ETag": ["description": "The version of the resource, to send as If-Match when changing it",
                                               "schema": ["type": "string"]]]
            }
            responses[String(operation.success.status)] = success
            for status in Set(operation.problems + implicitProblems(of: operation)).sorted() {
                responses[String(status)] = ["$ref": "#/components/responses/Problem\(status)"]
            }
            var entry: [String: Any] = [
                "summary": operation.summary,
                "tags": [operation.tag],
                "operationId": operation.name,
                "responses": responses,
            ]
            var parameters: [[String: Any]] = operation.pathParameters.map {
                ["name": $0.name, "in": "path", "required": true, "schema": $0.format.schema]
            }
            parameters += operation.query.map {
                ["name": $0.name, "in": "query", "required": false, "description": $0.summary, "schema": $0.format.schema]
            }
            if let required = operation.ifMatch {
                parameters.append([
                    "name": "If-Match", "in": "header", "required": required,
                    "description": "The ETag of the version read: the change applies only to that version (412 otherwise)",
                    "schema": ["type": "string", "pattern": IfMatch.pattern],
                ])
            }
            if operation.tenantScoped { parameters.append(["$ref": "#/components/parameters/TenantID"]) }
            if !parameters.isEmpty { entry["parameters"] = parameters }
            if let permission = operation.permission { entry["x-permission"] = permission }
            if let request = operation.request {
                entry["requestBody"] = [
                    "required": !operation.requestOptional,
                    "content": ["application/json": ["schema": ["$ref": "#/components/schemas/\(request)"]]],
                ]
            }
            paths[operation.path, default: [:]][operation.method.rawValue] = entry
        }
        var problemResponses: [String: Any] = [:]
        for status in Set(operations.flatMap { $0.problems + implicitProblems(of: $0) }) {
            problemResponses["Problem\(status)"] = [
                "description": HTTPStatusText.text(status),
                "content": ["application/problem+json": ["schema": ["$ref": "#/components/schemas/Problem"]]],
            ]
        }
        var allSchemas: [String: Any] = schemas
        allSchemas["Problem"] = problemSchema
        let document: [String: Any] = [
            "openapi": "3.1.0",
            "info": [
                "title": "Ward",
                "version": version,
                "description": "Multi-tenant hospital management server. Errors are RFC 9457 problem documents.",
            ],
            "paths": paths,
            "components": [
                "schemas": allSchemas,
                "responses": problemResponses,
                "parameters": [
                    "TenantID": [
                        "name": "X-Tenant-ID", "in": "header", "required": false,
                        "description": "The tenant's slug; may instead be given as the subdomain of the base domain.",
                        "schema": ParameterFormat.slug.schema,
                    ],
                ],
            ],
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
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
        if let required = operation.ifMatch { statuses += required ? [400, 412, 428] : [400, 412] }
        return statuses
    }

    static var problemSchema: [String: Any] { [
        "type": "object",
        "required": ["type", "title", "status"],
        "properties": [
            "type": ["type": "string"],
            "title": ["type": "string"],
            "status": ["type": "integer"],
            "detail": ["type": "string"],
            "request_id": ["type": "string"],
            "errors": [
                "type": "array",
                "items": [
                    "type": "object", "required": ["field", "message"],
                    "properties": ["field": ["type": "string"], "message": ["type": "string"]],
                ],
            ],
        ],
    ] }
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
