package import Hummingbird

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

extension Request {
    /// The token of an `Authorization: Bearer …` header, if the request has one.
    package var bearerToken: String? {
        guard let authorization = headers[.authorization], authorization.lowercased().hasPrefix("bearer ") else { return nil }
        let token = authorization.dropFirst(7).trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}
