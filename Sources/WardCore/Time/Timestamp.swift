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
}

extension Duration {
    /// The duration in seconds, fractions included, for date arithmetic.
    package var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
