import Foundation
package import WardJobs

/// Runs `workers` until `condition` holds (or `timeout` passes), then stops them; returns
/// whether the condition was met.
@discardableResult
package func runWorkers(_ workers: [JobWorker], until condition: @escaping @Sendable () async throws -> Bool,
                        timeout: Duration = .seconds(90)) async throws -> Bool {
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
