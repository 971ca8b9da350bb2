import Foundation
package import OpenAPIKit

/// Rules for text that every database can store and every reader can trust.
package enum TextRules {
    /// Unicode's White_Space characters (what `Unicode.Scalar.Properties.isWhitespace` says),
    /// as the inside of a regular expression's character class.
    package static let whitespace = "\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000"

    /// Text the body decoder lets through (`UnstorableText`): no C0 control character but tab,
    /// line feed and carriage return. The least every string of a request body must keep to.
    package static let storablePattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F]*$"

    /// The schema of a string the server reads only as a whole (a password, a token): storable.
    package static var storableString: JSONSchema { .string(pattern: storablePattern) }

    /// An email address: one @, a dot after it, no whitespace or control characters.
    package static let emailPattern = "^[^@\\u0000-\\u001F\\u007F\(whitespace)]+@[^@\\u0000-\\u001F\\u007F\(whitespace)]+\\.[^@\\u0000-\\u001F\\u007F\(whitespace)]+$"
    package static let emailMaximumLength = 254

    /// Whether `text` is an email address as `emailPattern` and `emailMaximumLength` say.
    package static func isEmail(_ text: String) -> Bool {
        text.unicodeScalars.count <= emailMaximumLength && matches(text, emailPattern)
    }

    /// Whether `pattern` (anchored with `^…$`) matches all of `text`. Foundation's regular
    /// expressions, like Python's, let `$` match before a final line break, where JSON Schema
    /// validators do not: the match must cover the whole text.
    package static func matches(_ text: String, _ pattern: String) -> Bool {
        text.range(of: pattern, options: .regularExpression) == text.startIndex..<text.endIndex
    }

    /// The schema of an email address.
    package static var emailSchema: JSONSchema { .string(maxLength: emailMaximumLength, pattern: emailPattern) }

    /// Whether `text` holds a C0 control character or DEL (tab and line breaks included): none
    /// belongs in a name, an id, an email address or a query.
    package static func hasControlCharacter(_ text: String) -> Bool {
        text.utf8.contains { $0 < 0x20 || $0 == 0x7F }
    }

    /// Whether `text` holds a control character free text cannot hold: any C0 character but
    /// tab, line feed and carriage return (NUL above all: PostgreSQL cannot store it).
    package static func hasUnstorableCharacter(_ text: String) -> Bool {
        text.utf8.contains { ($0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D) }
    }
}
