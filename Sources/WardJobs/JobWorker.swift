import Foundation
package import Logging
import ServiceLifecycle
import Synchronization
package import WardCore

/// Runs jobs from the queue: `concurrency` slots each claim, run and settle one job at a time,
/// renewing its lease while it runs. On graceful shutdown the slots stop claiming and let
/// running jobs finish; jobs still running when the service is cancelled are given back.
package final class JobWorker: Service, Sendable {
    package let id: String
    private let queue: JobQueue
    private let handlers: [String: JobHandler]
    private let settings: JobSettings
    private let metrics: JobMetrics
    private let logger: Logger

    package init(queue: JobQueue, handlers: [JobHandler], settings: JobSettings, metrics: JobMetrics, logger: Logger, id: String? = nil) {
        self.queue = queue
        self.handlers = Dictionary(handlers.map { ($0.kind, $0) }, uniquingKeysWith: { _, last in last })
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        self.id = id ?? "\(Self.hostName())/\(ProcessInfo.processInfo.processIdentifier)/\(UUIDv7.make().uuidString.suffix(8).lowercased())"
    }

    /// The machine's name as the kernel knows it (Foundation's `hostName` may wait on DNS).
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The kinds this worker runs.
    package var kinds: [String] { handlers.keys.sorted() }

    package func run() async throws {
        logger.info("job worker started", metadata: ["worker": "\(id)", "concurrency": "\(settings.concurrency)", "kinds": "\(kinds)"])
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<settings.concurrency {
                group.addTask { await self.slot() }
            }
            group.addTask { await self.reaper() }
        }
        logger.info("job worker stopped", metadata: ["worker": "\(id)"])
    }

    private var stopping: Bool { Task.isCancelled || Task.isShuttingDownGracefully }

    /// One slot: claim, run, settle, until shutdown.
    private func slot() async {
        while !stopping {
            let job: Job?
            do {
                job = try await queue.claim(worker: id, kinds: kinds, lease: settings.lease)
            } catch {
                logger.error("could not claim a job", metadata: ["worker": "\(id)", "error": "\(error)"])
                job = nil
            }
            guard let job, let handler = handlers[job.kind] else {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.settings.pollInterval) }
                continue
            }
            await execute(job, with: handler)
        }
    }

    /// Runs the one job `id` if it is due and not taken (used by `ward tenant create` to run
    /// its provisioning in the foreground); returns whether it ran here.
    package func runNow(_ id: String) async throws -> Bool {
        guard let job = try await queue.claim(worker: self.id, kinds: kinds, lease: settings.lease, only: id), let handler = handlers[job.kind] else {
            return false
        }
        await execute(job, with: handler)
        return true
    }

    private enum Outcome: Sendable {
        case finished((any Error)?)
        case leaseLost
    }

    private func execute(_ job: Job, with handler: JobHandler) async {
        let started = ContinuousClock.now
        let metadata: Logger.Metadata = ["job_id": "\(job.id)", "kind": "\(job.kind)", "attempt": "\(job.attempts)", "tenant_id": "\(job.tenant ?? "-")"]
        logger.info("job started", metadata: metadata)
        let outcome = await withTaskGroup(of: Outcome?.self) { group -> Outcome in
            group.addTask {
                do {
                    try await handler.run(JobRun(job: job, worker: self.id))
                    return .finished(nil)
                } catch {
                    return .finished(error)
                }
            }
            group.addTask {
                // Renew well before expiry, so one slow renewal does not lose the lease.
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.settings.lease / 3)
                    if Task.isCancelled { return nil }
                    if (try? await self.queue.renew(job.id, worker: job.leaseHolder ?? self.id, lease: self.settings.lease)) == false { return .leaseLost }
                }
                return nil
            }
            for await result in group {
                if let result {
                    group.cancelAll()
                    return result
                }
            }
            return .finished(CancellationError())
        }
        let seconds = (ContinuousClock.now - started).timeInterval
        let interrupted = Task.isCancelled
        // Settle in a task of its own: when this slot is being cancelled, the queue must still
        // hear how the attempt ended.
        await Task {
            await self.settle(job, outcome: outcome, interrupted: interrupted, handler: handler, seconds: seconds, metadata: metadata)
        }.value
    }

    /// Records how an attempt ended. A write the database refuses for a moment (a lock held too
    /// long, a connection dropped) is tried again, for up to half a lease: given up at once, a job
    /// that succeeded would run again when its lease expired, or be reaped as dead on its last
    /// attempt.
    private func settle(_ job: Job, outcome: Outcome, interrupted: Bool, handler: JobHandler, seconds: Double, metadata: Logger.Metadata) async {
        var metadata = metadata
        metadata["duration_ms"] = "\(Int(seconds * 1000))"
        let deadline = ContinuousClock.now + settings.lease / 2
        var pause = max(settings.pollInterval, .milliseconds(50))
        while true {
            do {
                try await record(job, outcome: outcome, interrupted: interrupted, handler: handler, seconds: seconds, metadata: metadata)
                return
            } catch {
                var failure = metadata
                failure["error"] = "\(error)"
                guard ContinuousClock.now + pause < deadline else {
                    logger.error("could not record a job's outcome; its lease will expire and it will run again", metadata: failure)
                    return
                }
                logger.warning("could not record a job's outcome; trying again", metadata: failure)
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(2))
            }
        }
    }

    private func record(_ job: Job, outcome: Outcome, interrupted: Bool, handler: JobHandler, seconds: Double, metadata: Logger.Metadata) async throws {
        var metadata = metadata
        let holder = job.leaseHolder ?? id
        switch outcome {
        case .leaseLost:
            logger.warning("job lease lost; another worker may run it", metadata: metadata)
        case .finished(nil):
            guard try await queue.complete(job.id, worker: holder) else {
                logger.warning("job finished after its lease was lost; another claim owns it now", metadata: metadata)
                return
            }
            metrics.record(kind: job.kind, status: "succeeded", seconds: seconds)
            logger.info("job succeeded", metadata: metadata)
        case .finished(_?) where interrupted:
            try await queue.release(job.id, worker: holder)
            metrics.record(kind: job.kind, status: "released", seconds: seconds)
            logger.notice("job released at shutdown", metadata: metadata)
        case .finished(let error?):
            metadata["error"] = "\(error)"
            if job.isFinalAttempt || error is any PermanentJobFailure {
                try await queue.fail(job.id, worker: holder, error: String(describing: error), retryAt: nil)
                metrics.record(kind: job.kind, status: "dead", seconds: seconds)
                logger.error(job.isFinalAttempt ? "job dead after its last attempt" : "job dead: its failure is permanent", metadata: metadata)
            } else {
                let delay = handler.retryDelay(job) ?? handler.policy.delay(after: job.attempts)
                try await queue.fail(job.id, worker: holder, error: String(describing: error), retryAt: queue.clock.now.addingTimeInterval(delay.timeInterval))
                metrics.record(kind: job.kind, status: "retried", seconds: seconds)
                metadata["retry_in_ms"] = "\(Int(delay.timeInterval * 1000))"
                logger.warning("job failed; will retry", metadata: metadata)
            }
        }
    }

    /// Takes back jobs of crashed workers: a few times per lease, and no less often than every
    /// 25 polls, so an expired lease is noticed well before another would run out.
    private func reaper() async {
        let interval = min(settings.lease / 4, settings.pollInterval * 25, .seconds(15))
        while !stopping {
            do {
                for job in try await queue.reapExpiredLeases() {
                    logger.error("job dead: its worker stopped during the final attempt", metadata: ["job_id": "\(job.id)", "kind": "\(job.kind)"])
                    metrics.record(kind: job.kind, status: "dead", seconds: 0)
                    await handlers[job.kind]?.abandoned(job)
                }
            } catch {
                logger.error("could not reap expired leases", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: max(interval, self.settings.pollInterval)) }
        }
    }
}
