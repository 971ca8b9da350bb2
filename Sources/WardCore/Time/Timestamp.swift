package import Foundation

/// Timestamps as stored and sent: RFC 3339 in UTC with milliseconds, fixed width, so text
/// order is time order in both dialects.
package enum Timestamp {
    private static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

    /// The text for `date`.
    package static func text(_ date: Date) -> String { date.formatted(style) }

    /// The text for now.
    package static func now() -> String { text(Date()) }

    /// Parses stored text back to a date.
    package static func date(_ text: String) -> Date? { try? style.parse(text) }

    /// `date` in a fixed `pattern` (Unicode date pattern, POSIX locale) on `zone`'s wall clock:
    /// for formats other systems parse (mail `Date:` headers, iCalendar, documents).
    package static func format(_ date: Date, _ pattern: String, in zone: TimeZone = .gmt) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = pattern
        return formatter.string(from: date)
    }
}

extension Duration {
    /// The duration in seconds, fractions included, for date arithmetic.
    package var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
