import Synchronization
import WardHTTP
import WardStorage

/// Cancels requests that outlive the request timeout, from one clock for the whole node.
///
/// A timer per request (a `Task.sleep` racing the handler) cost a second child task and a
/// dispatch timer, which stays queued for the whole timeout after its request has ended: at
/// 10,000 requests/s and 30 s that is 300,000 pending timers, and about a tenth of a read's
/// CPU. Here a request only enters a table on the way in and leaves it on the way out; a
/// sweeper wakes a few times a second and cancels whatever is past its deadline.
package final class RequestDeadlines: Sendable {
    private struct Entry: @unchecked Sendable {
        let deadline: ContinuousClock.Instant
        /// The request's own task. Used only under `state`'s lock while the entry is in the
        /// table, and the task removes its entry before it ends, so the task is alive whenever
        /// the sweeper cancels it.
        let task: UnsafeCurrentTask
        /// Whether the sweeper has cancelled it.
        var expired = false
    }

    private struct State: ~Copyable {
        var entries: [UInt64: Entry] = [:]
        var nextID: UInt64 = 0
        var sweeping = false
    }

    package let limit: Duration
    private let tick: Duration
    private let state = Mutex(State())

    package init(limit: Duration) {
        self.limit = limit
        // A tenth of the limit, between 10 and 250 ms: a 30 s limit is kept within 30.25 s.
        self.tick = min(max(limit / 10, .milliseconds(10)), .milliseconds(250))
    }

    /// Runs `operation` in a child task, cancelled once it passes the limit; a request that
    /// passed the limit throws `RequestTimedOut`, whatever the operation returned.
    package func run<Value: Sendable>(_ operation: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let deadline = ContinuousClock.now + limit
        return try await withThrowingTaskGroup(of: Value.self) { group in
            group.addTask {
                let id = self.enter(deadline)
                let result: Result<Value, any Error>
                do {
                    // What the request waits on in PostgreSQL is abandoned when it is cancelled.
                    result = .success(try await DatabaseCancellation.$abandonsWork.withValue(true) { try await operation() })
                } catch {
                    result = .failure(error)
                }
                if self.leave(id) { throw RequestTimedOut() }
                return try result.get()
            }
            return try await group.next()!
        }
    }

    private func enter(_ deadline: ContinuousClock.Instant) -> UInt64 {
        let (id, startSweeper) = withUnsafeCurrentTask { task in
            let entry = Entry(deadline: deadline, task: task!)
            return state.withLock { state -> (UInt64, Bool) in
                state.nextID += 1
                state.entries[state.nextID] = entry
                defer { state.sweeping = true }
                return (state.nextID, !state.sweeping)
            }
        }
        if startSweeper { startSweeping() }
        return id
    }

    /// Removes the request's entry; true if it passed its deadline.
    private func leave(_ id: UInt64) -> Bool {
        state.withLock { state in state.entries.removeValue(forKey: id)?.expired ?? false }
    }

    /// Cancels every request past its deadline at `now`; returns how many it cancelled.
    @discardableResult
    package func expire(at now: ContinuousClock.Instant) -> Int {
        state.withLock { state in
            var cancelled = 0
            for (id, entry) in state.entries where entry.deadline <= now && !entry.expired {
                state.entries[id]?.expired = true
                entry.task.cancel()
                cancelled += 1
            }
            return cancelled
        }
    }

    /// The sweeper holds the table weakly: it ends within a tick of the node's router going.
    private func startSweeping() {
        let tick = self.tick
        Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: tick)
                guard let self else { return }
                self.expire(at: .now)
            }
        }
    }
}
