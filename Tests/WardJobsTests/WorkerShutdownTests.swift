import Foundation
import Logging
import ServiceLifecycle
import Testing
import WardCore
import WardJobs
import WardStorage
import WardTestSupport

@Suite("Worker shutdown")
struct WorkerShutdownTests {
    @Test("SIGTERM lets a running job finish; a job still running at the bound is given back unspent", arguments: TestBackend.allCases)
    func gracefulShutdown(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await site.withQueueStorage { storage in
                let queue = JobQueue(storage: storage)
                let handlers = [
                    JobHandler(kind: "short", policy: RetryPolicy(maxAttempts: 3, firstDelay: .seconds(1))) { _ in
                        try await Task.sleep(for: .milliseconds(400))
                    },
                    JobHandler(kind: "long", policy: RetryPolicy(maxAttempts: 3, firstDelay: .seconds(1))) { _ in
                        try await Task.sleep(for: .seconds(60))
                    },
                ]
                let short = try #require(try await queue.enqueue(JobQueue.Request(kind: "short", payload: Effect(key: "s"), maxAttempts: 3)))
                let long = try #require(try await queue.enqueue(JobQueue.Request(kind: "long", payload: Effect(key: "l"), maxAttempts: 3)))
                let worker = testWorker(queue, handlers, settings: testJobSettings(concurrency: 2, lease: .seconds(10)), id: "draining")
                var configuration = ServiceGroupConfiguration(services: [worker], gracefulShutdownSignals: [], cancellationSignals: [], logger: TestLogs.quiet)
                configuration.maximumGracefulShutdownDuration = .init(.seconds(2))
                let group = ServiceGroup(configuration: configuration)

                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await group.run() }
                    while true {
                        let shortState = try await queue.find(short.id)?.state, longState = try await queue.find(long.id)?.state
                        if shortState == .running, longState == .running { break }
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    await group.triggerGracefulShutdown()
                    try await tasks.waitForAll()
                }

                #expect(try await queue.find(short.id)?.state == .succeeded)
                let released = try #require(try await queue.find(long.id))
                #expect(released.state == .queued)
                #expect(released.attempts == 0)
                #expect(released.leaseHolder == nil)
            }
        }
    }
}
