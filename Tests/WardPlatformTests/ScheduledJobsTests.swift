import Foundation
import SQLKit
import Testing
import WardAudit
import WardBackup
import WardClinical
import WardCore
import WardIdentity
import WardJobs
import WardMail
import WardParking
import WardKit
import WardPlatform
import WardServer
import WardStorage
import WardTestSupport

@Suite("Scheduled jobs")
struct ScheduledJobsTests {
    @Test("at a tenant's midnight its day is counted once; session cleanup, audit retention and the audit witness run on schedule", arguments: TestBackend.allCases)
    func builtInSchedules(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: fastJobs) { node in
                let services = node.services
                let newYork = TimeZone(identifier: "America/New_York")!
                try await services.lifecycle.provisionNow(.init(slug: "acme", name: "Acme", timeZone: newYork.identifier))
                let scope = try await services.storage.tenants.activeScope(slug: "acme")
                try await services.node.require(PatientService.self, by: "test").importPatients(ClinicalSeed.patients(3), in: scope, by: .system)
                // A session that ended two days ago, with its refresh token.
                let user = try await services.identity.createUser(in: scope, email: "doc@acme.test", name: "Doc", password: goodPassword, roles: ["doctor"], by: .system)
                let sessions = try scope.table("sessions"), refresh = try scope.table("refresh_tokens")
                let old = Timestamp.text(Date().addingTimeInterval(-2 * 86_400))
                try await scope.transaction { database in
                    try await database.raw("""
                        INSERT INTO \(sessions) (id, user_id, created_at, last_seen_at, expires_at) VALUES ('s-old', \(bind: user.id), \(bind: old), \(bind: old), \(bind: old))
                        """).run()
                    try await database.raw("INSERT INTO \(refresh) (token_hash, session_id, created_at) VALUES ('h-old', 's-old', \(bind: old))").run()
                }
                // The installation is two days old, so every installation-wide schedule has a
                // firing since it began whatever the hour the test runs: the nightly backup's
                // 02:15 UTC would otherwise fall before an installation made between 02:15 UTC
                // and the New York midnight below (and a scheduler enqueues nothing from before
                // its installation).
                let migrations = SQLQualifiedTable(Migrator.recordTable, space: services.storage.controlPlaneTarget.schema)
                let twoDaysAgo = Timestamp.text(Date().addingTimeInterval(-2 * 86_400))
                try await services.storage.controlPlane.transaction { database in
                    try await database.raw("UPDATE \(migrations) SET applied_at = \(bind: twoDaysAgo)").run()
                }
                var calendar = Calendar(identifier: .gregorian)
                calendar.timeZone = newYork
                let midnight = calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: Date()))!
                let today = DailyReport.day(endingAt: midnight, in: newYork)
                let scheduler = try NodeJobs.scheduler(services)

                let fired = try await scheduler.fire(at: midnight.addingTimeInterval(300))

                // Acme runs no car park: no no-show job (ParkingTests).
                #expect(Set(fired.map(\.kind)) == [ClinicalModule.dailyReportKind, IdentityModule.sessionCleanupKind, AuditModule.retentionKind,
                                                    AuditModule.witnessKind, JobsModule.housekeepingKind, MailModule.housekeepingKind,
                                                    BackupModule.nightlyKind])
                #expect(try await scheduler.fire(at: midnight.addingTimeInterval(330)).isEmpty)
                let queue = services.queue
                #expect(try await services.work { try await queue.list(state: .succeeded).count == 7 })
                let report = try #require(try await DailyReport.find(day: today, in: scope))
                #expect(report.patientsRegistered == 3)
                #expect(report.appointmentsTotal == 0)
                #expect(report.timeZone == newYork.identifier)
                let remaining = try await scope.read { database in
                    try await database.raw("SELECT COUNT(*) AS n FROM \(sessions)").first()?.decode(column: "n", as: Int.self)
                }
                #expect(remaining == 0)
                // The witness job recorded the trail's head in the control plane.
                let newest = try #require(try await AuditStore.events(in: scope, filter: .init(), before: nil, limit: 1).first)
                #expect(try await AuditWitness(storage: services.storage).head(of: scope.tenant)?.seq == newest.seq)
                #expect(try await AuditStore.verify(scope, witness: AuditWitness(storage: services.storage)).firstBreak == nil)

                // The report job run again replaces its day's report rather than adding one.
                let reportJob = try #require(fired.first { $0.kind == ClinicalModule.dailyReportKind })
                try await queue.retry(reportJob.id)
                #expect(try await services.work { try await queue.find(reportJob.id)?.state == .succeeded })
                let rows = try await scope.read { database in
                    try await database.raw("SELECT COUNT(*) AS n FROM \(try scope.table("daily_reports"))").first()?.decode(column: "n", as: Int.self)
                }
                #expect(rows == 1)
            }
        }
    }
}
