package import Foundation

/// A five-field cron expression (minute, hour, day of month, month, day of week) with `*`,
/// lists, ranges, steps and English names. As in Vixie cron, when both day fields are
/// restricted a day matching either one fires.
package struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    package let description: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    /// 0 = Sunday … 6 = Saturday (7 is read as Sunday too).
    let daysOfWeek: Set<Int>
    let daysOfMonthRestricted: Bool
    let daysOfWeekRestricted: Bool

    package struct Invalid: Error, CustomStringConvertible {
        package let description: String
    }

    package init(_ text: String) throws {
        let fields = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else { throw Invalid(description: "cron expression '\(text)' needs 5 fields, has \(fields.count)") }
        description = fields.joined(separator: " ")
        minutes = try Self.parse(fields[0], 0...59, names: [:])
        hours = try Self.parse(fields[1], 0...23, names: [:])
        daysOfMonth = try Self.parse(fields[2], 1...31, names: [:])
        months = try Self.parse(fields[3], 1...12, names: Self.monthNames)
        daysOfWeek = Set(try Self.parse(fields[4], 0...7, names: Self.dayNames).map { $0 % 7 })
        daysOfMonthRestricted = fields[2] != "*"
        daysOfWeekRestricted = fields[4] != "*"
    }

    static let monthNames = ["jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12]
    static let dayNames = ["sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6]

    private static func parse(_ field: String, _ range: ClosedRange<Int>, names: [String: Int]) throws -> Set<Int> {
        var values: Set<Int> = []
        for part in field.lowercased().split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(pieces.count) else { throw Invalid(description: "bad cron field '\(field)'") }
            var step = 1
            if pieces.count == 2 {
                guard let value = Int(pieces[1]), value > 0 else { throw Invalid(description: "bad step in cron field '\(field)'") }
                step = value
            }
            let bounds: ClosedRange<Int>
            if pieces[0] == "*" {
                bounds = range
            } else {
                let ends = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard (1...2).contains(ends.count) else { throw Invalid(description: "bad range in cron field '\(field)'") }
                let values = try ends.map { end -> Int in
                    if let number = Int(end) ?? names[String(end)], range.contains(number) { return number }
                    throw Invalid(description: "'\(end)' is out of range \(range.lowerBound)-\(range.upperBound) in cron field '\(field)'")
                }
                let upper = ends.count == 2 ? values[1] : (pieces.count == 2 ? range.upperBound : values[0])
                guard values[0] <= upper else { throw Invalid(description: "backwards range in cron field '\(field)'") }
                bounds = values[0]...upper
            }
            values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return values
    }

    private func dayMatches(day: Int, weekday: Int) -> Bool {
        let byMonth = daysOfMonth.contains(day), byWeek = daysOfWeek.contains(weekday)
        switch (daysOfMonthRestricted, daysOfWeekRestricted) {
        case (true, true): return byMonth || byWeek
        case (true, false): return byMonth
        case (false, true): return byWeek
        case (false, false): return true
        }
    }

    /// The first firing strictly after `date`, reading the fields as wall-clock time in `zone`;
    /// nil when none falls within the next five years (31 February, say).
    package func next(after date: Date, in zone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        var start = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        start.minute = (start.minute ?? 0) + 1
        guard let first = calendar.date(from: start) else { return nil }
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: first)
        var year = parts.year!, month = parts.month!, day = parts.day!, hour = parts.hour!, minute = parts.minute!
        let lastYear = year + 5
        func daysIn(_ year: Int, _ month: Int) -> Int {
            calendar.range(of: .day, in: .month, for: calendar.date(from: DateComponents(year: year, month: month, day: 1, hour: 12))!)!.count
        }
        while year <= lastYear {
            if !months.contains(month) {
                month += 1; day = 1; hour = 0; minute = 0
                if month > 12 { month = 1; year += 1 }
                continue
            }
            if day > daysIn(year, month) {
                month += 1; day = 1; hour = 0; minute = 0
                if month > 12 { month = 1; year += 1 }
                continue
            }
            let noon = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: 12))!
            if !dayMatches(day: day, weekday: calendar.component(.weekday, from: noon) - 1) {
                day += 1; hour = 0; minute = 0
                continue
            }
            if !hours.contains(hour) {
                hour += 1; minute = 0
                if hour > 23 { day += 1; hour = 0 }
                continue
            }
            if !minutes.contains(minute) {
                minute += 1
                if minute > 59 { hour += 1; minute = 0; if hour > 23 { day += 1; hour = 0 } }
                continue
            }
            // A wall-clock time skipped by a daylight-saving jump resolves to the moment after it.
            if let candidate = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute)), candidate > date {
                return candidate
            }
            minute += 1
            if minute > 59 { hour += 1; minute = 0; if hour > 23 { day += 1; hour = 0 } }
        }
        return nil
    }

    /// The latest firing in `(since, until]`, or nil.
    package func latest(since: Date, until: Date, in zone: TimeZone) -> Date? {
        var found: Date?
        var cursor = since
        while let next = next(after: cursor, in: zone), next <= until {
            found = next
            cursor = next
        }
        return found
    }
}
