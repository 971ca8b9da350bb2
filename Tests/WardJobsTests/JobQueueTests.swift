import Foundation
import Prometheus
import SQLKit
import Synchronization
import Testing
import WardCore
import WardJobs
import WardStorage
import WardTestSupport

@Suite("Job queue")
struct JobQueueTests {
    @Test("two workers on two nodes never run one job twice", arguments: TestBackend.allCases)
    func exclusiveClaims(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withQueueStorage { first in
                try await site.withQueueStorage { second in
                    let queueA = JobQueue(storage: first), queueB = JobQueue(storage: second)
                    let ledger = Ledger()
                    let handler = JobHandler(kind: "count", policy: RetryPolicy(maxAttempts: 1, firstDelay: .milliseconds(10))) { run in
                        ledger.note(run.job.id)
                        try await Task.sleep(for: .milliseconds(2))
                    }
                    for index in 0..<80 {
                        try await queueA.enqueue(JobQueue.Request(kind: "count", payload: Effect(key: "k\(index)"), maxAttempts: 1))
                    }

                    let done = try await runWorkers([testWorker(queueA, [handler], id: "node-a"), testWorker(queueB, [handler], id: "node-b")]) {
                        try await queueA.list(state: .succeeded, limit: 200).count == 80
                    }

                    #expect(done)
                    #expect(ledger.all.count == 80)
                    #expect(Set(ledger.all).count == 80)
                    #expect(try await queueB.list(state: .succeeded, limit: 200).allSatisfy { $0.attempts == 1 && $0.leaseHolder == nil })
                }
            }
        }
    }

    @Test("a job's outcome the database refuses for a moment is recorded once it can be: the job succeeds, not dead or run again")
    func outcomeRecordedAfterAnOutage() async throws {
        try await withTestSite(.sqlite) { site in
            try await site.withQueueStorage { storage in
                let queue = JobQueue(storage: storage)
                let ledger = Ledger()
                // The handler takes the queue's table away as it finishes, and puts it back half a
                // second later: the worker's first tries to record the success fail.
                let handler = JobHandler(kind: "count", policy: RetryPolicy(maxAttempts: 1, firstDelay: .milliseconds(10))) { run in
                    ledger.note(run.job.id)
                    try await storage.controlPlane.transaction { database in try await database.raw("ALTER TABLE jobs RENAME TO jobs_away").run() }
                    Task {
                        try await Task.sleep(for: .milliseconds(500))
                        try await storage.controlPlane.transaction { database in try await database.raw("ALTER TABLE jobs_away RENAME TO jobs").run() }
                    }
                }
                let job = try #require(try await queue.enqueue(JobQueue.Request(kind: "count", payload: Effect(key: "k"), maxAttempts: 1)))
                let done = try await runWorkers([testWorker(queue, [handler], id: "node-a")]) {
                    (try? await queue.list(state: .succeeded, limit: 10).count) == 1
                }
                #expect(done)
                #expect(ledger.all == [job.id])
            }
        }
    }

    @Test("a job whose worker died runs again after its lease, and its effect happens once", arguments: TestBackend.allCases)
    func expiredLease(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withQueueStorage { storage in
                let clock = TestClock(), queue = JobQueue(storage: storage, clock: clock)
                let effects = SQLQualifiedTable("test_effects", space: storage.controlPlaneTarget.schema)
                try await storage.controlPlane.transaction { database in
                    try await database.raw("CREATE TABLE \(effects) (key TEXT PRIMARY KEY, job_id TEXT NOT NULL)").run()
                }
                // The handler's effect is an insert keyed by the job's own key: idempotent.
                let apply: @Sendable (Job) async throws -> Void = { job in
                    let key = try job.decodePayload(as: Effect.self).key
                    try await storage.controlPlane.transaction { database in
                        try await database.raw("INSERT INTO \(effects) (key, job_id) VALUES (\(bind: key), \(bind: job.id)) ON CONFLICT (key) DO NOTHING").run()
                    }
                }
                let ledger = Ledger()
                let handler = JobHandler(kind: "effect", policy: RetryPolicy(maxAttempts: 3, firstDelay: .milliseconds(10))) { run in
                    ledger.note("attempt \(run.job.attempts)")
                    do { try await apply(run.job) } catch { ledger.note("failed: \(String(reflecting: error))"); throw error }
                }
                let job = try #require(try await queue.enqueue(JobQueue.Request(kind: "effect", payload: Effect(key: "welcome"), maxAttempts: 3)))

                // A node claims the job, has its effect, and dies before settling; its lease then
                // runs out (on the test's clock: a busy machine's slowness never lets the
                // survivor's own lease lapse as well).
                let claimed = try #require(try await queue.claim(worker: "crashed-node", kinds: ["effect"], lease: .seconds(30)))
                #expect(claimed.id == job.id)
                try await apply(claimed)
                #expect(try await queue.claim(worker: "other", kinds: ["effect"], lease: .seconds(30)) == nil)
                clock.advance(by: .seconds(31))

                let done = try await runWorkers([testWorker(queue, [handler], id: "survivor")]) {
                    try await queue.find(job.id)?.state == .succeeded
                }

                #expect(done)
                let finished = try #require(try await queue.find(job.id))
                #expect(finished.attempts == 2)
                #expect(ledger.all == ["attempt 2"])
                let count = try await storage.controlPlane.read { database in
                    try await database.raw("SELECT COUNT(*) AS n FROM \(effects)").first()?.decode(column: "n", as: Int.self)
                }
                #expect(count == 1)
            }
        }
    }

    @Test("a late answer from an earlier claim, even by the same worker, cannot settle the job's current claim", arguments: TestBackend.allCases)
    func staleClaims(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withQueueStorage { storage in
                let clock = TestClock(), queue = JobQueue(storage: storage, clock: clock)
                let job = try #require(try await queue.enqueue(JobQueue.Request(kind: "k", payload: Effect(key: "x"), maxAttempts: 3)))
                let first = try #require(try await queue.claim(worker: "node-a", kinds: ["k"], lease: .seconds(30)))
                clock.advance(by: .seconds(31))
                #expect(try await queue.reapExpiredLeases().isEmpty)
                let second = try #require(try await queue.claim(worker: "node-a", kinds: ["k"], lease: .seconds(5)))

                #expect(first.leaseHolder != second.leaseHolder)
                #expect(try await !queue.renew(job.id, worker: try #require(first.leaseHolder), lease: .seconds(5)))
                #expect(try await !queue.fail(job.id, worker: try #require(first.leaseHolder), error: "late", retryAt: nil))
                #expect(try await queue.find(job.id)?.state == .running)
                #expect(try await queue.complete(job.id, worker: try #require(second.leaseHolder)))
                #expect(try await queue.find(job.id)?.attempts == 2)
            }
        }
    }

    @Test("a worker lost on the final attempt leaves the job dead and its handler told", arguments: TestBackend.allCases)
    func lostOnFinalAttempt(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withQueueStorage { storage in
                let clock = TestClock(), queue = JobQueue(storage: storage, clock: clock)
                let ledger = Ledger()
                let handler = JobHandler(kind: "once", policy: RetryPolicy(maxAttempts: 1, firstDelay: .milliseconds(10)), run: { _ in
                    ledger.note("ran")
                }, abandoned: { job in ledger.note("abandoned \(job.id)") })
                let job = try #require(try await queue.enqueue(JobQueue.Request(kind: "once", payload: Effect(key: "x"), maxAttempts: 1)))
                _ = try #require(try await queue.claim(worker: "crashed-node", kinds: ["once"], lease: .seconds(30)))
                clock.advance(by: .seconds(31))

                let done = try await runWorkers([testWorker(queue, [handler], id: "survivor")]) { try await queue.find(job.id)?.state == .dead }

                #expect(done)
                #expect(ledger.all == ["abandoned \(job.id)"])
                #expect(try await queue.find(job.id)?.lastError?.contains("final attempt") == true)
            }
        }
    }

    @Test("a failing job is retried with growing delays, then dead and still inspectable; operators retry and cancel", arguments: TestBackend.allCases)
    func backoffAndDeadLetters(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withQueueStorage { storage in
                let clock = TestClock(), queue = JobQueue(storage: storage, clock: clock)
                let registry = PrometheusCollectorRegistry()
                let attempts = Mutex<[Date]>([])
                struct Refused: Error, CustomStringConvertible { var description: String { "the payment provider refused" } }
                let handler = JobHandler(kind: "flaky", policy: RetryPolicy(maxAttempts: 3, firstDelay: .seconds(600), jitter: 0)) { _ in
                    attempts.withLock { $0.append(clock.now) }
                    throw Refused()
                }
                let job = try #require(try await queue.enqueue(JobQueue.Request(kind: "flaky", payload: Effect(key: "x"), maxAttempts: 3)))

                // Ten minutes, then twenty, pass on the queue's clock, moved only to a waiting
                // job's due time: while it is not due no worker can claim it, so the clock never
                // jumps under a running attempt (whose lease would lapse too).
                let done = try await runWorkers([testWorker(queue, [handler], registry: registry, id: "w")]) {
                    let current = try await queue.find(job.id)
                    if current?.state == .failed, let due = current.flatMap({ Timestamp.date($0.runAt) }) {
                        let wait = due.timeIntervalSince(clock.now)
                        // A millisecond past it: stored times keep whole milliseconds (truncated),
                        // so landing exactly on the due time could read as a hair before it.
                        if wait > 0 { clock.advance(by: .seconds(wait) + .milliseconds(1)) }
                    }
                    return current?.state == .dead
                }

                #expect(done)
                let times = attempts.withLock { $0 }
                #expect(times.count == 3)
                if times.count == 3 {
                    #expect(times[1].timeIntervalSince(times[0]) >= 600)
                    #expect(times[2].timeIntervalSince(times[1]) >= 1200)
                }
                let dead = try #require(try await queue.find(job.id))
                #expect(dead.attempts == 3)
                #expect(dead.lastError == "the payment provider refused")
                #expect(try await queue.list(state: .dead).map(\.id) == [job.id])
                var text: [UInt8] = []
                registry.emit(into: &text)
                let exposition = String(decoding: text, as: UTF8.self)
                #expect(exposition.contains(#"jobs_total{kind="flaky",status="retried"} 2"#))
                #expect(exposition.contains(#"jobs_total{kind="flaky",status="dead"} 1"#))

                await #expect(throws: JobError.wrongState(job.id, .dead, "cancelled")) { try await queue.cancel(job.id) }
                let again = try await queue.retry(job.id)
                #expect(again.state == .queued)
                #expect(again.attempts == 0)
                #expect(try await queue.cancel(job.id).state == .cancelled)
                await #expect(throws: JobError.notFound("nope")) { try await queue.retry("nope") }
            }
        }
    }

    @Test("the retry policy doubles its delay up to the cap, jitter moving it at most by its share")
    func retryPolicy() {
        let policy = RetryPolicy(maxAttempts: 4, firstDelay: .seconds(60), maximumDelay: .seconds(150), jitter: 0.2)
        #expect(policy.delay(after: 1, random: 0) == .seconds(60))
        #expect(policy.delay(after: 2, random: 0) == .seconds(120))
        #expect(policy.delay(after: 3, random: 0) == .seconds(150))
        #expect(policy.delay(after: 1, random: 1) == .seconds(72))
        #expect(policy.delay(after: 1, random: -1) == .seconds(48))
        for _ in 0..<100 {
            let delay = policy.delay(after: 1)
            #expect(delay >= .seconds(48) && delay <= .seconds(72))
        }
    }

    @Test("a unique key makes enqueueing idempotent", arguments: TestBackend.allCases)
    func uniqueKeys(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withQueueStorage { storage in
                let queue = JobQueue(storage: storage)
                let request = try JobQueue.Request(kind: "k", payload: Effect(key: "x"), maxAttempts: 1, uniqueKey: "report|acme|2026-11-23")
                #expect(try await queue.enqueue(request) != nil)
                #expect(try await queue.enqueue(request) == nil)
                #expect(try await queue.list(kind: "k").count == 1)
                let depth = try await queue.depth()
                #expect(depth.first?.kind == "k" && depth.first?.waiting == 1)
            }
        }
    }
}
