import Foundation
import Logging
import Prometheus
import Synchronization
import WardCore
import WardJobs
import WardStorage
import WardTestSupport

/// Worker settings fast enough for tests: short polls and quick retries; the lease stays long
/// enough that a busy test machine never lets it lapse by accident.
func testJobSettings(concurrency: Int = 4, lease: Duration = .seconds(30)) -> JobSettings {
    JobSettings(concurrency: concurrency, pollInterval: .milliseconds(20), lease: lease, retryDelay: .milliseconds(50),
                maxAttempts: 3, schedulerTick: .seconds(1))
}

func testWorker(_ queue: JobQueue, _ handlers: [JobHandler], settings: JobSettings = testJobSettings(), registry: PrometheusCollectorRegistry = .init(),
                id: String) -> JobWorker {
    JobWorker(queue: queue, handlers: handlers, settings: settings, metrics: JobMetrics(registry: registry), logger: TestLogs.quiet, id: id)
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
