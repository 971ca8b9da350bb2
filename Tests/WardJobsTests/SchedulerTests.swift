import Foundation
import Testing
import WardCore
import WardJobs
import WardStorage
import WardTestSupport

@Suite("Scheduler and cron")
struct SchedulerTests {
    static let utc = TimeZone(identifier: "UTC")!
    static let paris = TimeZone(identifier: "Europe/Paris")!

    static func date(_ text: String) -> Date { Timestamp.date(text)! }

    @Test("cron fields: lists, ranges, steps, names, and day-of-month OR day-of-week")
    func cronNext() throws {
        let nightly = try CronExpression("0 0 * * *")
        #expect(nightly.next(after: Self.date("2026-11-23T10:00:00.000Z"), in: Self.paris) == Self.date("2026-11-23T23:00:00.000Z"))
        #expect(nightly.next(after: Self.date("2026-11-23T10:00:00.000Z"), in: Self.utc) == Self.date("2026-11-24T00:00:00.000Z"))

        let office = try CronExpression("*/15 9-17 * * mon-fri")
        // Saturday 2026-11-28 → Monday 09:00.
        #expect(office.next(after: Self.date("2026-11-27T17:50:00.000Z"), in: Self.utc) == Self.date("2026-11-30T09:00:00.000Z"))
        #expect(office.next(after: Self.date("2026-11-23T09:00:00.000Z"), in: Self.utc) == Self.date("2026-11-23T09:15:00.000Z"))

        // The 1st of the month or any Sunday.
        let either = try CronExpression("0 12 1 * sun")
        #expect(either.next(after: Self.date("2026-11-23T13:00:00.000Z"), in: Self.utc) == Self.date("2026-11-29T12:00:00.000Z"))
        #expect(either.next(after: Self.date("2026-11-29T13:00:00.000Z"), in: Self.utc) == Self.date("2026-12-01T12:00:00.000Z"))

        let yearly = try CronExpression("30 6 29 feb *")
        #expect(yearly.next(after: Self.date("2026-11-23T00:00:00.000Z"), in: Self.utc) == Self.date("2028-02-29T06:30:00.000Z"))
    }

    @Test("cron across daylight-saving changes: a skipped time fires once just after the jump")
    func cronDaylightSaving() throws {
        let early = try CronExpression("30 2 * * *")
        // 2026-03-29: Paris skips from 02:00 to 03:00 local.
        let fired = try #require(early.next(after: Self.date("2026-03-28T12:00:00.000Z"), in: Self.paris))
        #expect(fired == Self.date("2026-03-29T01:30:00.000Z"))
        #expect(early.next(after: fired, in: Self.paris) == Self.date("2026-03-30T00:30:00.000Z"))
    }

    @Test("malformed cron expressions are refused with the reason")
    func cronInvalid() {
        for bad in ["* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "*/0 * * * *", "5-1 * * * *", "x * * * *", "* * * * 8"] {
            #expect(throws: CronExpression.Invalid.self, "\(bad)") { try CronExpression(bad) }
        }
    }

    @Test("a firing happens once with two schedulers running, per installation and per tenant at its midnight", arguments: TestBackend.allCases)
    func firesOnce(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withQueueStorage { first in
                try await site.withQueueStorage { second in
                    try await first.tenants.create(slug: "acme", name: "Acme", timeZone: "UTC")
                    try await first.tenants.create(slug: "tokyo", name: "Tokyo Clinic", timeZone: "Asia/Tokyo")
                    try await first.tenants.create(slug: "quiet", name: "Quiet")
                    try await first.tenants.setStatus("quiet", .suspended)
                    func schedules() throws -> [Schedule] {
                        [
                            try Schedule(name: "cleanup", cron: "17 * * * *", scope: .installation(Self.utc), catchUp: .seconds(3600)) { _, _ in
                                try JobQueue.Request(kind: "cleanup", payload: Effect(key: "-"), maxAttempts: 1)
                            },
                            try Schedule(name: "report", cron: "0 0 * * *", scope: .eachTenant) { firedAt, tenant in
                                try JobQueue.Request(kind: "report", payload: Effect(key: Timestamp.text(firedAt)), tenant: tenant?.slug, maxAttempts: 1)
                            },
                        ]
                    }
                    let schedulerA = Scheduler(queue: JobQueue(storage: first), tenants: first.tenants, schedules: try schedules(), tick: .seconds(1), logger: TestLogs.quiet)
                    let schedulerB = Scheduler(queue: JobQueue(storage: second), tenants: second.tenants, schedules: try schedules(), tick: .seconds(1), logger: TestLogs.quiet)
                    // 00:20 UTC two days on: after UTC's midnight and Tokyo's (15:00 UTC the day
                    // before), both later than the tenants' creation.
                    var calendar = Calendar(identifier: .gregorian)
                    calendar.timeZone = Self.utc
                    let tomorrow = calendar.startOfDay(for: Date().addingTimeInterval(2 * 86_400))
                    let now = tomorrow.addingTimeInterval(20 * 60)

                    async let firedA = schedulerA.fire(at: now)
                    async let firedB = schedulerB.fire(at: now)
                    let fired = try await firedA + firedB

                    #expect(fired.count == 3)
                    let queue = JobQueue(storage: first)
                    let reports = try await queue.list(kind: "report")
                    #expect(Set(reports.compactMap(\.tenant)) == ["acme", "tokyo"])
                    let acme = try #require(reports.first { $0.tenant == "acme" })
                    #expect(try acme.decodePayload(as: Effect.self).key == Timestamp.text(tomorrow))
                    let tokyo = try #require(reports.first { $0.tenant == "tokyo" })
                    #expect(try tokyo.decodePayload(as: Effect.self).key == Timestamp.text(tomorrow.addingTimeInterval(-9 * 3600)))
                    let cleanup = try await queue.list(kind: "cleanup")
                    #expect(cleanup.count == 1)
                    #expect(cleanup.first?.uniqueKey == "cleanup|-|\(Timestamp.text(tomorrow.addingTimeInterval(17 * 60)))")
                    #expect(try await schedulerB.fire(at: now.addingTimeInterval(30)).isEmpty)
                }
            }
        }
    }

    @Test("an installation gets no firing from before it existed: a node first started at noon does not make up the night's job; the next night's fires",
          arguments: TestBackend.allCases)
    func noFiringBeforeInstallation(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withQueueStorage { storage in
                // A nightly schedule whose last occurrence was an hour before this installation
                // (its control plane migrated just now), within the catch-up window.
                let now = Date()
                var calendar = Calendar(identifier: .gregorian)
                calendar.timeZone = Self.utc
                let hourAgo = calendar.dateComponents([.hour, .minute], from: now.addingTimeInterval(-3600))
                let nightly = try Schedule(name: "nightly", cron: "\(hourAgo.minute!) \(hourAgo.hour!) * * *", scope: .installation(Self.utc)) { _, _ in
                    try JobQueue.Request(kind: "nightly", payload: Effect(key: "-"), maxAttempts: 1)
                }
                let scheduler = Scheduler(queue: JobQueue(storage: storage), tenants: storage.tenants, schedules: [nightly], tick: .seconds(1), logger: TestLogs.quiet)
                #expect(try await scheduler.fire(at: now).isEmpty)
                // A day on, the occurrence after the installation fires.
                let fired = try await scheduler.fire(at: now.addingTimeInterval(23.5 * 3600))
                #expect(fired.count == 1)
                #expect(fired.first?.uniqueKey?.hasPrefix("nightly|-|") == true)
            }
        }
    }
}
