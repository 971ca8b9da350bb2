/// HTML this module wrote itself with every value escaped: the one kind of value a template
/// inserts as it is (`{{{…}}}`, used only for fields named `…HTML` of this type; a test holds
/// the templates to that). For a fragment on a hot path, where the template engine's
/// reflection costs more than the query behind it (Benchmarks/web-search).
struct SafeHTML: Sendable, CustomStringConvertible {
    let description: String

    /// Builds a fragment: markup is appended as written, values through `text(_:)`.
    struct Builder {
        private(set) var html = ""

        init(capacity: Int) { html.reserveCapacity(capacity) }

        mutating func markup(_ markup: StaticString) {
            html += markup.description
        }

        /// `value` escaped for text and for double-quoted attributes.
        mutating func text(_ value: String) {
            guard value.utf8.contains(where: { Self.special.contains($0) }) else {
                html += value
                return
            }
            for character in value.unicodeScalars {
                switch character {
                case "&": html += "&amp;"
                case "<": html += "&lt;"
                case ">": html += "&gt;"
                case "\"": html += "&quot;"
                case "'": html += "&#39;"
                default: html.unicodeScalars.append(character)
                }
            }
        }

        var result: SafeHTML { SafeHTML(description: html) }

        private static let special: Set<UInt8> = Set("&<>\"'".utf8)
    }
}
