import Foundation
import Testing
@testable import WardClinical

@Suite("Daily report days")
struct DailyReportTests {
    static func instant(_ text: String) throws -> Date { try Date(text, strategy: .iso8601) }

    @Test("a day is counted from its first instant to the next day's, across daylight-saving jumps at midnight")
    func windows() throws {
        let santiago = try #require(TimeZone(identifier: "America/Santiago"))
        // 6 September 2026: Chile's clocks jump from 00:00 to 01:00, so the day starts at 01:00
        // (04:00Z) and lasts 23 hours, ending at the 7th's midnight (03:00Z).
        let sprung = try #require(DailyReport.window(of: "2026-09-06", in: santiago))
        #expect(sprung.start == (try Self.instant("2026-09-06T04:00:00Z")))
        #expect(sprung.end == (try Self.instant("2026-09-07T03:00:00Z")))
        #expect(DailyReport.window(of: "2026-09-05", in: santiago)?.end == sprung.start)
        // 5 April 2026: clocks go back from 00:00 to 23:00 the evening before, a 25-hour 4 April.
        let fallen = try #require(DailyReport.window(of: "2026-04-04", in: santiago))
        #expect(fallen.end.timeIntervalSince(fallen.start) == 25 * 3600)

        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        let ordinary = try #require(DailyReport.window(of: "2026-12-01", in: newYork))
        #expect(ordinary.start == (try Self.instant("2026-12-01T05:00:00Z")) && ordinary.end.timeIntervalSince(ordinary.start) == 24 * 3600)
        #expect(DailyReport.window(of: "2026-02-31", in: newYork) == nil)
        #expect(DailyReport.window(of: "yesterday", in: newYork) == nil)
    }

    @Test("the report fired at a skipped midnight (the moment after it) counts the day that ended there")
    func skippedMidnight() throws {
        let santiago = try #require(TimeZone(identifier: "America/Santiago"))
        #expect(DailyReport.day(endingAt: try Self.instant("2026-09-06T04:00:00Z"), in: santiago) == "2026-09-05")
        #expect(DailyReport.day(endingAt: try Self.instant("2026-09-07T03:00:00Z"), in: santiago) == "2026-09-06")
    }
}
