import Synchronization
import WardHTTP
import WardStorage

/// Cancels requests that outlive the request timeout, from one clock for the whole node.
///
/// A timer per request (a `Task.sleep` racing the handler) cost a dispatch timer that stays
/// queued for the whole timeout after its request has ended: at 10,000 requests/s and 30 s that
/// is 300,000 pending timers, and about a tenth of a read's CPU. Here a request enters a table
/// on the way in and leaves it on the way out; a sweeper wakes a few times a second and, for
/// whatever is past its deadline, resumes the request's deadline watcher: a child task beside
/// the handler, suspended on a continuation (no timer), whose return cancels its sibling through
/// the task group. Cancellation stays structured: nothing holds a task from outside.
package final class RequestDeadlines: Sendable {
    private struct Entry {
        let deadline: ContinuousClock.Instant
        /// The watcher, once it is waiting.
        var watcher: CheckedContinuation<Void, Never>?
        /// Whether the sweeper found it past its deadline.
        var expired = false
        /// Whether the request ended first (its watcher was cancelled).
        var finished = false
    }

    private struct State: ~Copyable {
        var entries: [UInt64: Entry] = [:]
        var nextID: UInt64 = 0
        var sweeping = false
    }

    private enum Outcome<Value: Sendable>: Sendable {
        case finished(Value)
        case expired
    }

    package let limit: Duration
    private let tick: Duration
    private let state = Mutex(State())

    package init(limit: Duration) {
        self.limit = limit
        // A tenth of the limit, between 10 and 250 ms: a 30 s limit is kept within 30.25 s.
        self.tick = min(max(limit / 10, .milliseconds(10)), .milliseconds(250))
    }

    /// Runs `operation` in a child task, cancelled once it passes the limit (`limit`, or the
    /// node's); a request that passed it throws `RequestTimedOut` once its operation has ended.
    package func run<Value: Sendable>(limit: Duration? = nil, _ operation: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let id = enter(ContinuousClock.now + (limit ?? self.limit))
        defer { leave(id) }
        return try await withThrowingTaskGroup(of: Outcome<Value>.self) { group in
            group.addTask {
                // What the request waits on in PostgreSQL is abandoned when it is cancelled.
                .finished(try await DatabaseCancellation.$abandonsWork.withValue(true) { try await operation() })
            }
            group.addTask {
                await self.watch(id)
                return .expired
            }
            let first = try await group.next()!
            group.cancelAll()
            switch first {
            case .finished(let value):
                return value
            case .expired:
                // The operation ends first, whatever it returns.
                try? await group.waitForAll()
                throw RequestTimedOut()
            }
        }
    }

    private func enter(_ deadline: ContinuousClock.Instant) -> UInt64 {
        let (id, startSweeper) = state.withLock { state -> (UInt64, Bool) in
            state.nextID += 1
            state.entries[state.nextID] = Entry(deadline: deadline)
            defer { state.sweeping = true }
            return (state.nextID, !state.sweeping)
        }
        if startSweeper { startSweeping() }
        return id
    }

    private func leave(_ id: UInt64) {
        _ = state.withLock { state in state.entries.removeValue(forKey: id) }
    }

    /// Returns when the request passes its deadline, or when it is cancelled (it ended first).
    private func watch(_ id: UInt64) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let waiting = state.withLock { state -> Bool in
                    guard var entry = state.entries[id], !entry.expired, !entry.finished else { return false }
                    entry.watcher = continuation
                    state.entries[id] = entry
                    return true
                }
                if !waiting { continuation.resume() }
            }
        } onCancel: {
            let watcher = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard var entry = state.entries[id] else { return nil }
                let watcher = entry.watcher
                entry.finished = true
                entry.watcher = nil
                state.entries[id] = entry
                return watcher
            }
            watcher?.resume()
        }
    }

    /// Ends the watch of every request past its deadline at `now`, which cancels its handler;
    /// returns how many it expired.
    @discardableResult
    package func expire(at now: ContinuousClock.Instant) -> Int {
        let (expired, watchers) = state.withLock { state -> (Int, [CheckedContinuation<Void, Never>]) in
            var expired = 0, watchers: [CheckedContinuation<Void, Never>] = []
            for (id, var entry) in state.entries where entry.deadline <= now && !entry.expired {
                expired += 1
                entry.expired = true
                if let watcher = entry.watcher { watchers.append(watcher) }
                entry.watcher = nil
                state.entries[id] = entry
            }
            return (expired, watchers)
        }
        for watcher in watchers { watcher.resume() }
        return expired
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
