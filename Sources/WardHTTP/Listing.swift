package import Hummingbird
package import OpenAPIKit
package import WardCore

/// A list answer: `{"items": [...]}`.
package struct ItemList<Item: Encodable>: Encodable {
    package let items: [Item]
    package init(_ items: [Item]) { self.items = items }
}

/// A page of a longer list: `{"items": [...], "next_cursor": "…" | null}`; the cursor is
/// written even when null, as the benchmark contract's clients expect.
package struct ItemPage<Item: Encodable>: Encodable {
    package let items: [Item]
    package let nextCursor: String?

    package init(_ items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    enum CodingKeys: String, CodingKey { case items, nextCursor = "next_cursor" }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}

extension ItemList: APISchema where Item: APISchema {
    package static var schemaName: String { Item.schemaName + "List" }
    package static func schema(_ builder: inout SchemaBuilder) -> JSONSchema {
        .object(properties: ["items": .array(items: builder.reference(to: Item.self))])
    }
}

extension ItemList: APIResponseBody where Item: APIResponseBody {}

extension ItemPage: APISchema where Item: APISchema {
    package static var schemaName: String { Item.schemaName + "Page" }
    package static func schema(_ builder: inout SchemaBuilder) -> JSONSchema {
        .object(properties: ["items": .array(items: builder.reference(to: Item.self)), "next_cursor": .string(nullable: true)])
    }
}

extension ItemPage: APIResponseBody where Item: APIResponseBody {}

extension ItemPage: JSONWritable where Item: JSONWritable {
    package var expectedJSONBytes: Int { 64 + items.reduce(0) { $0 + $1.expectedJSONBytes + 1 } }

    package func appendJSON(to json: inout String) {
        var object = JSONObjectWriter(&json)
        object.addRaw("items", to: &json) { json in
            json.append("[")
            for (index, item) in items.enumerated() {
                if index > 0 { json.append(",") }
                item.appendJSON(to: &json)
            }
            json.append("]")
        }
        object.addNullable("next_cursor", nextCursor, to: &json)
        object.end(&json)
    }
}

extension Request {
    /// The token of an `Authorization: Bearer …` header, if the request has one.
    package var bearerToken: String? {
        // Byte-wise over contiguous bytes: this runs on every authenticated request.
        guard var authorization = headers.value(.authorization) else { return nil }
        return authorization.withUTF8 { bytes -> String? in
            guard bytes.count > 7, zip(bytes.prefix(6), "bearer".utf8).allSatisfy({ $0 | 0x20 == $1 }),
                  bytes[6] == UInt8(ascii: " ") else { return nil }
            let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
            guard let start = bytes[7...].firstIndex(where: { !isBlank($0) }),
                  let end = bytes.lastIndex(where: { !isBlank($0) }) else { return nil }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start...end]), as: UTF8.self)
        }
    }
}

/// A query parameter Ward cannot use: 400, naming the parameter.
package struct InvalidQuery: Error, ProblemConvertible {
    package let field: String
    package let message: String
    package init(field: String, message: String) {
        self.field = field
        self.message = message
    }
    package var problem: Problem {
        Problem(status: 400, title: "Invalid query", detail: "\(field) \(message).", errors: [.init(field: field, message: message)])
    }
}

extension Request {
    /// The page size a list asks for with `limit`: `default` when absent, otherwise 1 to `maximum`.
    /// Anything else is refused rather than quietly clamped, so a client learns its page is not
    /// the size it asked for.
    package func pageLimit(default defaultLimit: Int, maximum: Int) throws -> Int {
        guard let text = uri.queryParameters.get("limit") else { return min(defaultLimit, maximum) }
        guard let value = Int(text), (1...maximum).contains(value) else { throw InvalidQuery(field: "limit", message: "must be 1 to \(maximum)") }
        return value
    }

    /// The `cursor` of a list paged by sequence number (the audit trail's): absent, or a positive
    /// integer this API handed out as `next_cursor`.
    package func sequenceCursor() throws -> Int64? {
        guard let text = uri.queryParameters.get("cursor") else { return nil }
        guard let value = Int64(text), value > 0 else { throw InvalidQuery(field: "cursor", message: "is not a cursor from this API") }
        return value
    }
}
