import Foundation
import Logging
import Prometheus
import Synchronization
import WardCore
import WardJobs
import WardStorage
import WardTestSupport

/// Worker settings fast enough for tests: short polls, a one-second lease, quick retries.
func testJobSettings(concurrency: Int = 4, lease: Duration = .seconds(1)) -> JobSettings {
    JobSettings(concurrency: concurrency, pollInterval: .milliseconds(20), lease: lease, retryDelay: .milliseconds(50),
                maxAttempts: 3, schedulerTick: .seconds(1))
}

func testWorker(_ queue: JobQueue, _ handlers: [JobHandler], settings: JobSettings = testJobSettings(), registry: PrometheusCollectorRegistry = .init(),
                id: String) -> JobWorker {
    JobWorker(queue: queue, handlers: handlers, settings: settings, metrics: JobMetrics(registry: registry), logger: TestLogs.quiet, id: id)
}

/// Runs `workers` until `condition` holds (or `timeout` passes), then stops them; returns
/// whether the condition was met.
@discardableResult
func run(_ workers: [JobWorker], until condition: @escaping @Sendable () async throws -> Bool, timeout: Duration = .seconds(20)) async throws -> Bool {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        for worker in workers { group.addTask { try await worker.run(); return false } }
        let deadline = ContinuousClock.now + timeout
        var met = false
        while ContinuousClock.now < deadline {
            if try await condition() { met = true; break }
            try await Task.sleep(for: .milliseconds(25))
        }
        group.cancelAll()
        try await group.waitForAll()
        return met
    }
}

/// A job payload naming the effect a handler should have.
struct Effect: Codable, Sendable { let key: String }

/// Where handlers in these tests record what they did, so a test can count effects.
final class Ledger: Sendable {
    private let entries = Mutex<[String]>([])
    func note(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
}

extension TestSite {
    /// Storage with the job queue's tables, as a node opens it.
    func withQueueStorage<Result>(_ body: (Storage) async throws -> Result) async throws -> Result {
        try await withStorage(platformMigrations: JobMigrations.platform, body)
    }
}
