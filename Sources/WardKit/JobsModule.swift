import Foundation
package import WardJobs
package import WardStorage

/// The durable job queue as a module: its control-plane tables, housekeeping of finished jobs,
/// and the queue's gauges.
package struct JobsModule: WardModule {
    package static let name = "jobs"
    package static let housekeepingKind = "jobs.housekeeping"
    package static var platformMigrations: [Migration] { JobMigrations.platform }
    /// How long finished jobs stay inspectable before housekeeping removes them.
    static let finishedJobRetention: Duration = .seconds(30 * 86_400)

    let node: ModuleNode

    package init(node: ModuleNode) {
        self.node = node
    }

    package func jobs() -> [JobHandler] {
        let queue = node.queue
        return [
            JobHandler(kind: Self.housekeepingKind, policy: RetryPolicy(node.settings.jobs)) { _ in
                try await queue.purgeFinished(olderThan: Self.finishedJobRetention)
            },
        ]
    }

    /// Finished jobs past their retention are removed hourly.
    package func schedules() throws -> [Schedule] {
        let attempts = node.settings.jobs.maxAttempts
        return [
            try Schedule(name: Self.housekeepingKind, cron: "47 * * * *", scope: .installation(.gmt), catchUp: .seconds(3600)) { _, _ in
                try JobQueue.Request(kind: Self.housekeepingKind, payload: NoPayload(), maxAttempts: attempts)
            },
        ]
    }

    /// The queue's depth by kind, for every kind this node runs (kinds with nothing waiting
    /// report zero).
    package func refreshMetrics() async {
        guard let depth = try? await node.queueDepth() else { return }
        node.jobMetrics.refresh(depth: depth, kinds: node.jobKinds)
    }
}
