/// A tenant's slug: its name in URLs, subdomains, file names and schema names.
package struct TenantSlug: Sendable, Hashable, CustomStringConvertible {
    package let value: String

    /// Names that would be confusing or dangerous as a tenant: subdomains an operator runs
    /// other services on, and names of Ward's own planes.
    static let reserved: Set<String> = [
        "www", "api", "app", "admin", "platform", "public", "static", "assets", "mail", "smtp",
        "status", "health", "metrics", "docs", "help", "support", "ward", "root", "system",
        "postgres", "information-schema", "pg-catalog", "default", "test", "localhost",
    ]

    /// Validates `text`: 3–40 of `[a-z0-9-]`, starting with a letter, not ending with or
    /// doubling a hyphen, and not reserved.
    package init(_ text: String) throws(TenantError) {
        // One pass over the bytes: every tenant request resolves its slug.
        let bytes = text.utf8
        guard (3...40).contains(bytes.count) else {
            throw .invalidSlug(text, "must be 3 to 40 characters long")
        }
        guard let first = bytes.first, Self.isLetter(first) else {
            throw .invalidSlug(text, "must start with a lowercase letter")
        }
        var previous = first
        for byte in bytes.dropFirst() {
            guard Self.isLetter(byte) || Self.isDigit(byte) || byte == Self.hyphen else {
                throw .invalidSlug(text, "may hold only lowercase letters, digits and hyphens")
            }
            if byte == Self.hyphen && previous == Self.hyphen {
                throw .invalidSlug(text, "may not end with a hyphen or hold two in a row")
            }
            previous = byte
        }
        if previous == Self.hyphen {
            throw .invalidSlug(text, "may not end with a hyphen or hold two in a row")
        }
        if Self.reserved.contains(text) {
            throw .invalidSlug(text, "is reserved")
        }
        self.value = text
    }

    private static let hyphen = UInt8(ascii: "-")
    private static func isLetter(_ byte: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) }
    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    /// The PostgreSQL schema holding this tenant: `t_` and the slug with `-` as `_`. Slugs hold
    /// no `_`, so distinct slugs give distinct schemas.
    package var schemaName: String {
        "t_" + String(decoding: value.utf8.map { $0 == Self.hyphen ? UInt8(ascii: "_") : $0 }, as: UTF8.self)
    }

    package var description: String { value }
}
