import Hummingbird
import Synchronization
import WardHTTP

/// Bounds how long a request may run. Each request's work runs in one child task, registered
/// here with its deadline; one sweeper per node cancels the ones past it every few tens of
/// milliseconds. A timer per request (a sleeping task raced against the work) cost a task, a
/// timer registration and a wake-up on every request.
final class RequestDeadlines: Sendable {
    private struct Entry {
        let deadline: ContinuousClock.Instant
        let task: RunningTask
        var expired = false
    }

    /// A running child task, cancellable by the sweeper. Only used while it is registered:
    /// the task removes itself (under the same lock the sweeper cancels under) before it ends,
    /// so the sweeper never touches a finished task.
    private struct RunningTask: @unchecked Sendable {
        let task: UnsafeCurrentTask
    }

    private let entries = Mutex<[UInt64: Entry]>([:])
    private let nextID = Atomic<UInt64>(0)
    private let sweeping = Atomic<Bool>(false)

    /// How often the sweeper looks: the precision of the timeout.
    static let sweepInterval = Duration.milliseconds(25)

    /// Runs `work`, throwing `RequestTimedOut` when it is still running `limit` from now (it is
    /// cancelled then, and answered once it has stopped).
    func run<Result: Sendable>(limit: Duration, _ work: () async throws -> Result) async throws -> Result {
        startSweeperIfNeeded()
        let id = nextID.add(1, ordering: .relaxed).newValue
        let deadline = ContinuousClock.now + limit
        return try await withoutActuallyEscaping(work) { work in
            // `work` runs in exactly one child task that this scope awaits before returning.
            let box = UncheckedSendableBox(work)
            async let outcome = { () async -> Swift.Result<Result, any Error> in
                withUnsafeCurrentTask { task in
                    guard let task else { return }
                    entries.withLock { $0[id] = Entry(deadline: deadline, task: RunningTask(task: task)) }
                }
                let result: Swift.Result<Result, any Error>
                do { result = .success(try await box.value()) } catch { result = .failure(error) }
                let expired = entries.withLock { $0.removeValue(forKey: id)?.expired ?? false }
                return expired ? .failure(RequestTimedOut()) : result
            }()
            return try await outcome.get()
        }
    }

    private func sweep() {
        let now = ContinuousClock.now
        entries.withLock { entries in
            for (id, entry) in entries where !entry.expired && entry.deadline <= now {
                entry.task.task.cancel()
                entries[id]?.expired = true
            }
        }
    }

    /// One sweeper for the life of this object; it ends once nothing refers to it.
    private func startSweeperIfNeeded() {
        guard !sweeping.load(ordering: .relaxed),
              sweeping.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        Task { [weak self] in
            // A strong reference only for the sweep itself, so the sleep keeps nothing alive.
            while self?.sweep() != nil {
                try? await Task.sleep(for: Self.sweepInterval)
            }
        }
    }
}
