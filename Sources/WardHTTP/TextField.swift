package import OpenAPIKit
package import WardCore

/// A text field of a request body: the rule the server checks and the schema the OpenAPI
/// document shows, from one value, so the two cannot drift.
package struct TextField: Sendable {
    /// A name, an id, an email, a code: one line, no control character, not blank.
    /// Free text (an address, a reason, a note): tabs and line breaks allowed.
    package enum Kind: Sendable { case singleLine, freeText }

    package let kind: Kind
    package let minLength: Int
    package let maxLength: Int

    /// One line of 1 to `max` characters holding more than whitespace.
    package static func singleLine(max: Int) -> TextField { TextField(kind: .singleLine, minLength: 1, maxLength: max) }

    /// Free text of `min` to `max` characters.
    package static func freeText(min: Int = 0, max: Int) -> TextField { TextField(kind: .freeText, minLength: min, maxLength: max) }

    /// Why `value` breaks the rule, or nil. Lengths count Unicode scalars, as JSON Schema does.
    package func problem(with value: String) -> String? {
        let length = value.unicodeScalars.count
        switch kind {
        case .singleLine:
            if TextRules.hasControlCharacter(value) { return "must be one line without control characters" }
            if !value.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) || length > maxLength {
                return "must be 1 to \(maxLength) characters"
            }
        case .freeText:
            if TextRules.hasUnstorableCharacter(value) || value.utf8.contains(0x7F) { return "must not contain control characters" }
            if length < minLength || length > maxLength {
                return minLength > 0 ? "must be \(minLength) to \(maxLength) characters" : "must be at most \(maxLength) characters"
            }
        }
        return nil
    }

    /// Appends a field error for `value` (when present and invalid) to `errors`.
    package func check(_ value: String?, _ field: String, into errors: inout [Problem.FieldError]) {
        if let value, let message = problem(with: value) { errors.append(.init(field: field, message: message)) }
    }

    /// The field's JSON Schema. Patterns spell whitespace out (`TextRules.whitespace`) rather
    /// than write `\s`, which ECMA, Python and ICU read differently.
    package var schema: JSONSchema {
        .string(minLength: minLength, maxLength: maxLength, pattern: kind == .singleLine ? Self.singleLinePattern : Self.freeTextPattern)
    }

    /// The rule of a single-line field as one pattern, its lengths included, for where a schema
    /// can state no length (an object's keys, in `patternProperties`).
    package var boundedPattern: String {
        precondition(kind == .singleLine, "only single-line fields have a bounded pattern")
        let line = "[^\\u0000-\\u001F\\u007F]"
        return "^(?=\(line)*[^\\u0000-\\u001F\\u007F\(TextRules.whitespace)])\(line){\(minLength),\(maxLength)}$"
    }

    /// One line holding something other than whitespace.
    static let singleLinePattern = "^[^\\u0000-\\u001F\\u007F]*[^\\u0000-\\u001F\\u007F\(TextRules.whitespace)][^\\u0000-\\u001F\\u007F]*$"
    /// No control character but tab and line breaks.
    static let freeTextPattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$"
}
