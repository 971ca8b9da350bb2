import Foundation
import Hummingbird
import NIOCore

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

    /// The form in `request`'s body.
    static func read(_ request: Request) async throws -> FormBody {
        var request = request
        let buffer = try await request.collectBody(upTo: limit)
        return FormBody(String(buffer: buffer))
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
