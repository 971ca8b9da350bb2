import Synchronization
import WardStorage

/// Items submitted concurrently, committed together: while one commit is in flight the next
/// items queue, and the next commit takes them all (up to `maximumBatch`). Each submitter
/// returns once the commit holding its item succeeded, or with the error that refused it.
final class GroupCommit<Item: Sendable>: Sendable {
    typealias Commit = @Sendable ([Item]) async throws -> Void

    private struct State {
        var pending: [(item: Item, done: AuditWaiter)] = []
        /// The commit the running drain calls, or nil when none runs.
        var draining: Commit?
    }

    private let state = Mutex(State())
    private let maximumBatch: Int
    private let delay: Duration

    /// `delay` is how long a drain gathers items before its next commit while they arrive
    /// concurrently.
    init(maximumBatch: Int = 512, delay: Duration = .microseconds(500)) {
        self.maximumBatch = maximumBatch
        self.delay = delay
    }

    /// Returns once `item` is committed by `commit` (or by the commit of the drain already
    /// running, which is the same for every submitter of one group). A submitter cancelled
    /// meanwhile (its request past the deadline) stops waiting at once; its item is still
    /// committed with its batch.
    func submit(_ item: Item, commit: @escaping Commit) async throws {
        let done = AuditWaiter()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                done.wait(continuation)
                let startDrain = state.withLock { state -> Bool in
                    state.pending.append((item, done))
                    if state.draining != nil { return false }
                    state.draining = commit
                    return true
                }
                // The drain commits for many requests: none of their sessions is to wait for a
                // replica to replay it (an audit event is not a write its author reads back).
                if startDrain { Task { await ReadConsistency.$current.withValue(nil) { await self.drain(commit) } } }
            }
        } onCancel: {
            done.resume(throwing: CancellationError())
        }
    }

    private func drain(_ commit: Commit) async {
        var previousBatch = 0
        while true {
            // Like PostgreSQL's commit_delay: when items arrive together, a short wait lets the
            // next commit take more of them. Fewer commits mean fewer flushes, fewer copies of
            // the table's last pages in the log, and fewer readers finding their page cache
            // invalidated by a commit. A lone item (the last batch held one) does not wait.
            if previousBatch > 1 { try? await Task.sleep(for: delay) }
            let batch = state.withLock { state -> [(item: Item, done: AuditWaiter)] in
                let batch = Array(state.pending.prefix(maximumBatch))
                state.pending.removeFirst(batch.count)
                if batch.isEmpty { state.draining = nil }
                return batch
            }
            guard !batch.isEmpty else { return }
            previousBatch = batch.count
            do {
                try await commit(batch.map(\.item))
                for entry in batch { entry.done.resume(throwing: nil) }
            } catch where batch.count > 1 {
                // One item the database refuses must not take its batch with it: each is tried
                // alone, and only what fails on its own is refused.
                for entry in batch {
                    do {
                        try await commit([entry.item])
                        entry.done.resume(throwing: nil)
                    } catch {
                        entry.done.resume(throwing: error)
                    }
                }
            } catch {
                for entry in batch { entry.done.resume(throwing: error) }
            }
        }
    }
}

/// The wait of one submitted item, ended exactly once: by the commit that takes the item, or
/// by the submitter's cancellation, whichever comes first (a cancellation before the wait
/// begins ends it as it begins).
final class AuditWaiter: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Void, any Error>)
        case ended(Result<Void, any Error>)
        case resumed
    }

    private let state = Mutex(State.idle)

    func wait(_ continuation: CheckedContinuation<Void, any Error>) {
        let ended = state.withLock { state -> Result<Void, any Error>? in
            guard case .ended(let result) = state else {
                state = .waiting(continuation)
                return nil
            }
            state = .resumed
            return result
        }
        if let ended { continuation.resume(with: ended) }
    }

    /// Ends the wait: committed when `error` is nil.
    func resume(throwing error: (any Error)?) {
        let result: Result<Void, any Error> = error.map { .failure($0) } ?? .success(())
        let waiting = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            switch state {
            case .idle:
                state = .ended(result)
                return nil
            case .waiting(let continuation):
                state = .resumed
                return continuation
            case .ended, .resumed:
                return nil
            }
        }
        waiting?.resume(with: result)
    }
}
