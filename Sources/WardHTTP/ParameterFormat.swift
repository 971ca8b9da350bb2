import Foundation
package import OpenAPIKit

/// What a path or query parameter holds, checked at the edge before any work and described by
/// the same value in the OpenAPI document: a value of the wrong form or length never reaches a
/// query, an audit event or a log line.
package enum ParameterFormat: Sendable {
    /// A Ward id: a UUID as 36 characters.
    case uuid
    /// A tenant's slug as `TenantSlug` forms it: 3 to 40 of a-z, 0-9 and single hyphens,
    /// starting with a letter, not ending with a hyphen. (Slugs Ward reserves have the form and
    /// name no tenant.)
    case slug
    /// A role's name: 3 to 40 of a-z, 0-9 and _, starting with a letter.
    case roleName
    /// Text of 1 to `maxLength` characters, without control characters.
    case text(maxLength: Int)
    /// A whole number in `range`.
    case integer(ClosedRange<Int64>)
    /// One of `values`.
    case choice([String])
    /// An RFC 3339 time.
    case dateTime
    /// A calendar day, `yyyy-MM-dd`.
    case date
    /// `true` or `false`.
    case boolean

    /// Why `value` is not of this format; nil when it is.
    package func problem(with value: String) -> String? {
        switch self {
        case .uuid:
            return Self.isUUID(value) ? nil : "must be an id (a UUID)"
        case .slug:
            return Self.isSlug(value) ? nil : "must be a tenant slug (3 to 40 of a-z, 0-9 and single hyphens, starting with a letter)"
        case .roleName:
            return Self.isRoleName(value) ? nil : "must be a role name (3 to 40 of a-z, 0-9 and _, starting with a letter)"
        case .text(let maxLength):
            if value.isEmpty || value.count > maxLength { return "must be 1 to \(maxLength) characters" }
            return TextRules.hasControlCharacter(value) ? "must not contain control characters" : nil
        case .integer(let range):
            guard let number = Int64(value), range.contains(number) else { return "must be a whole number from \(range.lowerBound) to \(range.upperBound)" }
            return nil
        case .choice(let values):
            return values.contains(value) ? nil : "must be one of \(values.joined(separator: ", "))"
        case .dateTime:
            return TextRules.isRFC3339(value) ? nil : "must be an RFC 3339 time"
        case .date:
            return TextRules.isDay(value) ? nil : "must be a date as yyyy-MM-dd"
        case .boolean:
            return value == "true" || value == "false" ? nil : "must be true or false"
        }
    }

    /// The JSON Schema of the format, for the OpenAPI document.
    package var schema: JSONSchema {
        switch self {
        case .uuid:
            .string(format: .other("uuid"), pattern: "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
        case .slug:
            .string(minLength: 3, maxLength: 40, pattern: "^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$")
        case .roleName:
            .string(pattern: "^[a-z][a-z0-9_]{2,39}$")
        case .text(let maxLength):
            .string(minLength: 1, maxLength: maxLength, pattern: "^[^\\u0000-\\u001F\\u007F]*$")
        case .integer(let range):
            .integer(maximum: (Int(range.upperBound), exclusive: false), minimum: (Int(range.lowerBound), exclusive: false))
        case .choice(let values):
            .enumeration(values)
        case .dateTime:
            .string(format: .dateTime, maxLength: TextRules.rfc3339MaximumLength)
        case .date:
            .string(format: .date, pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
        case .boolean:
            .boolean
        }
    }

    static func isUUID(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                guard (48...57).contains(byte) || (97...102).contains(byte | 0x20) else { return false }
            }
        }
        return true
    }

    static func isSlug(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard (3...40).contains(bytes.count), (97...122).contains(bytes[0]), bytes.last != UInt8(ascii: "-") else { return false }
        for (index, byte) in bytes.enumerated() {
            if byte == UInt8(ascii: "-") {
                if bytes[index - 1] == byte { return false }
            } else if !(97...122).contains(byte) && !(48...57).contains(byte) {
                return false
            }
        }
        return true
    }

    static func isRoleName(_ value: String) -> Bool {
        let bytes = value.utf8
        guard (3...40).contains(bytes.count), let first = bytes.first, (97...122).contains(first) else { return false }
        return bytes.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == UInt8(ascii: "_") }
    }
}

/// A query parameter an operation reads.
package struct QueryParameter: Sendable {
    package var name: String
    package var format: ParameterFormat
    package var summary: String
    /// Whether the operation refuses a request without it (422 naming it).
    package var required: Bool

    package init(_ name: String, _ format: ParameterFormat, _ summary: String, required: Bool = false) {
        self.name = name
        self.format = format
        self.summary = summary
        self.required = required
    }

    /// `limit`: a page size of 1 to `maximum` (`default` when absent).
    package static func limit(default defaultLimit: Int, maximum: Int) -> QueryParameter {
        QueryParameter("limit", .integer(1...Int64(maximum)), "Page size, \(defaultLimit) when absent")
    }

    /// `cursor`: the `next_cursor` of the previous page.
    package static func cursor(_ format: ParameterFormat) -> QueryParameter {
        QueryParameter("cursor", format, "The next_cursor of the previous page")
    }
}
