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
            success["content"] = [operation.success.mediaType: content]
            responses[String(operation.success.status)] = success
            for status in Set(operation.problems + [500]).sorted() {
                responses[String(status)] = ["$ref": "#/components/responses/Problem\(status)"]
            }
            var entry: [String: Any] = [
                "summary": operation.summary,
                "tags": [operation.tag],
                "operationId": operationID(operation),
                "responses": responses,
            ]
            var parameters: [[String: Any]] = pathParameters(operation.path).map {
                ["name": $0, "in": "path", "required": true, "schema": ["type": "string"]]
            }
            if operation.tenantScoped { parameters.append(["$ref": "#/components/parameters/TenantID"]) }
            if !parameters.isEmpty { entry["parameters"] = parameters }
            if let permission = operation.permission { entry["x-permission"] = permission }
            if let request = operation.request {
                entry["requestBody"] = [
                    "required": operation.path.hasSuffix("/archive") ? false : true,
                    "content": ["application/json": ["schema": ["$ref": "#/components/schemas/\(request)"]]],
                ]
            }
            paths[operation.path, default: [:]][operation.method.rawValue] = entry
        }
        var problemResponses: [String: Any] = [:]
        for status in Set(operations.flatMap(\.problems) + [500]) {
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
                        "schema": ["type": "string", "pattern": "^[a-z][a-z0-9-]{2,39}$"],
                    ],
                ],
            ],
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    static func pathParameters(_ path: String) -> [String] {
        path.split(separator: "/").compactMap { component in
            component.hasPrefix("{") && component.hasSuffix("}") ? String(component.dropFirst().dropLast()) : nil
        }
    }

    static func operationID(_ operation: APIOperation) -> String {
        let words = operation.path.split(separator: "/").map { component -> String in
            let word = component.trimmingCharacters(in: CharacterSet(charactersIn: "{}")).replacingOccurrences(of: ".", with: "_")
            return word.prefix(1).uppercased() + word.dropFirst()
        }
        return operation.method.rawValue + words.joined()
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
        case 422: "Invalid input"
        case 429: "Too many requests"
        case 503: "Unavailable"
        default: "Internal server error"
        }
    }
}
