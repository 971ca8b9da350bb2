package import Foundation

/// RFC 3339 times, as query parameters and bodies carry them.
extension TextRules {
    /// The longest RFC 3339 time accepted, as the OpenAPI document declares it.
    package static let rfc3339MaximumLength = 64

    /// An RFC 3339 date-time (section 5.6): `YYYY-MM-DDTHH:MM:SS`, optional fractional seconds,
    /// then `Z` or an offset of up to ±23:59 (`T` and `Z` in either case). Parsed here rather
    /// than by Foundation's ISO 8601 style, which refuses offsets the grammar allows (beyond
    /// ±18:00) and reads dates before 1582 in the Julian calendar. Years are the grammar's four
    /// digits, 0000 included (schema-driven clients generate it), and seconds run to 59; a time
    /// before 0001 or after 9999 (year 0000, or an offset past the bounds) is held to those
    /// years' bounds, which keeps every such time before or after every stored one.
    package static func rfc3339(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.count <= rfc3339MaximumLength else { return nil }
        func number(_ start: Int, _ length: Int) -> Int? {
            var value = 0
            for index in start..<(start + length) {
                guard (48...57).contains(bytes[index]) else { return nil }
                value = value * 10 + Int(bytes[index] - 48)
            }
            return value
        }
        func byte(_ index: Int, is character: Character) -> Bool { bytes[index] == character.asciiValue! }
        guard let year = number(0, 4), byte(4, is: "-"), let month = number(5, 2), byte(7, is: "-"), let day = number(8, 2),
              byte(10, is: "T") || byte(10, is: "t"),
              let hour = number(11, 2), byte(13, is: ":"), let minute = number(14, 2), byte(16, is: ":"), let second = number(17, 2),
              (0...9999).contains(year), (1...12).contains(month), (1...daysIn(month, of: year)).contains(day),
              hour < 24, minute < 60, second < 60 else { return nil }
        var index = 19
        var milliseconds = 0
        if byte(index, is: ".") {
            index += 1
            let start = index
            while index < bytes.count, (48...57).contains(bytes[index]) {
                // Ward keeps milliseconds; further digits are dropped.
                if index - start < 3 { milliseconds = milliseconds * 10 + Int(bytes[index] - 48) }
                index += 1
            }
            guard index > start else { return nil }
            for _ in min(index - start, 3)..<3 { milliseconds *= 10 }
        }
        guard index < bytes.count else { return nil }
        var offset = 0
        if byte(index, is: "Z") || byte(index, is: "z") {
            index += 1
        } else {
            guard byte(index, is: "+") || byte(index, is: "-"), index + 6 == bytes.count, byte(index + 3, is: ":"),
                  let hours = number(index + 1, 2), let minutes = number(index + 4, 2), hours < 24, minutes < 60 else { return nil }
            offset = (hours * 3600 + minutes * 60) * (byte(index, is: "-") ? -1 : 1)
            index += 6
        }
        guard index == bytes.count else { return nil }
        let days = daysSince1970(year: year, month: month, day: day)
        // Half a millisecond in: `Timestamp` writes milliseconds by truncating a binary
        // fraction, which gave .676 back for .677 about half the time.
        let seconds = Double(days * 86_400 + hour * 3600 + minute * 60 + second - offset) + (Double(milliseconds) + 0.5) / 1000
        return Date(timeIntervalSince1970: min(max(seconds, earliest), latest))
    }

    package static func isRFC3339(_ text: String) -> Bool { rfc3339(text) != nil }

    /// Whether `text` is a calendar day, `yyyy-MM-dd`, that exists (no 2026-02-30).
    package static func isDay(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, parts.count == 3, parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              year >= 1, (1...12).contains(month) else { return false }
        return (1...daysIn(month, of: year)).contains(day)
    }

    /// 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z, half a millisecond in.
    private static let earliest = Double(daysSince1970(year: 1, month: 1, day: 1) * 86_400) + 0.0005
    private static let latest = Double(daysSince1970(year: 10_000, month: 1, day: 1) * 86_400) - 0.0005

    private static func daysIn(_ month: Int, of year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to the date in the proleptic Gregorian calendar (Howard Hinnant's
    /// `days_from_civil`).
    private static func daysSince1970(year: Int, month: Int, day: Int) -> Int {
        let year = month <= 2 ? year - 1 : year
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
