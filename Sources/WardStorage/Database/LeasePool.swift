import Synchronization

/// A fixed set of resources handed out one holder at a time; callers wait in arrival order
/// when none is free. Used for SQLite's one writer and its few readers.
final class LeasePool<Resource: Sendable>: Sendable {
    private struct State {
        var available: [Resource]
        var waiters: [CheckedContinuation<Resource?, Never>] = []
        var closed = false
    }

    private let state: Mutex<State>
    let all: [Resource]

    init(_ resources: [Resource]) {
        self.all = resources
        self.state = Mutex(State(available: resources))
    }

    /// Runs `work` with a leased resource, returning it afterwards whatever happens.
    func withLease<Result: Sendable>(_ work: (Resource) async throws -> Result) async throws -> Result {
        guard let resource = await lease() else { throw StorageError.closed("pool") }
        defer { release(resource) }
        return try await work(resource)
    }

    private func lease() async -> Resource? {
        if let ready = state.withLock({ state -> Resource?? in
            if state.closed { return .some(nil) }
            return state.available.popLast().map { .some($0) }
        }) {
            return ready
        }
        return await withCheckedContinuation { continuation in
            let immediate: Resource?? = state.withLock { state in
                if state.closed { return .some(nil) }
                if let resource = state.available.popLast() { return .some(resource) }
                state.waiters.append(continuation)
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    private func release(_ resource: Resource) {
        let waiter = state.withLock { state -> CheckedContinuation<Resource?, Never>? in
            if state.waiters.isEmpty {
                state.available.append(resource)
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: resource)
    }

    /// Refuses further leases and wakes every waiter with nothing.
    func close() {
        let waiters = state.withLock { state in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }
}
