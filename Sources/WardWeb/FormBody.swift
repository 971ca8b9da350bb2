import Foundation
import Hummingbird
import NIOCore
import WardCore
import WardHTTP

/// A submitted form (`application/x-www-form-urlencoded`): the fields by name, last value
/// kept. Forms here are small; a body over `limit` is refused before it is read whole.
struct FormBody: Sendable {
    static let limit = 64 * 1024
    private let fields: [String: String]

    init(fields: [String: String]) {
        self.fields = fields
    }

    init(_ text: String) {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]) else { continue }
            fields[name] = parts.count > 1 ? Self.decode(parts[1]) ?? "" : ""
        }
        self.fields = fields
    }

    /// The form in `request`'s body. A value holding a character no text field may hold (NUL
    /// and the other C0 controls but tab and line breaks) refuses the whole form, as the API's
    /// decoder refuses such JSON: bcrypt would stop at a NUL, PostgreSQL cannot store one.
    static func read(_ request: Request) async throws -> FormBody {
        var request = request
        let buffer = try await request.collectBody(upTo: limit)
        let form = FormBody(String(buffer: buffer))
        if let name = form.fields.first(where: { TextRules.hasUnstorableCharacter($0.key) || TextRules.hasUnstorableCharacter($0.value) })?.key {
            throw UnstorableFormValue(field: name)
        }
        return form
    }

    /// The field's value with surrounding whitespace removed, or nil when absent or empty.
    subscript(_ name: String) -> String? {
        guard let value = fields[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    /// The field as sent (a password keeps its spaces).
    func raw(_ name: String) -> String? { fields[name] }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}

/// A form value with a control character: 422, naming the field.
struct UnstorableFormValue: Error, ProblemConvertible {
    let field: String
    var problem: Problem {
        Problem(status: 422, title: "Invalid input", detail: "A field holds a control character no text may hold. Go back and retype it.",
                errors: [.init(field: String(field.prefix(64)), message: "must not contain control characters")])
    }
}
