import Logging
import Synchronization

/// Up to `capacity` resources handed out one holder at a time, opened on first need; callers
/// wait in arrival order when all are busy. Used for SQLite's one writer and its few readers
/// (a tenant file that is only written never opens a reader).
final class LeasePool<Resource: Sendable>: Sendable {
    private struct State {
        var available: [Resource]
        var created: [Resource]
        var opening = 0
        var waiters: [CheckedContinuation<Wake, Never>] = []
        var closed = false
    }

    private enum Grant {
        case ready(Resource?)
        case open
        case wait
    }

    /// What a waiter is woken with.
    private enum Wake {
        /// A resource handed over by its previous holder.
        case resource(Resource)
        /// Room to open one: an opening failed and its place is free again.
        case room
        /// The pool closed.
        case closed
    }

    private let state: Mutex<State>
    private let capacity: Int
    private let open: @Sendable () async throws -> Resource

    init(_ resources: [Resource], capacity: Int? = nil, open: @escaping @Sendable () async throws -> Resource = { throw StorageError.closed("pool") }) {
        self.capacity = max(capacity ?? resources.count, resources.count)
        self.open = open
        self.state = Mutex(State(available: resources, created: resources))
    }

    /// Every resource opened so far.
    var all: [Resource] { state.withLock { $0.created } }

    /// Runs `work` with a leased resource, returning it afterwards whatever happens.
    func withLease<Result: Sendable>(_ work: (Resource) async throws -> Result) async throws -> Result {
        guard let resource = try await lease() else { throw StorageError.closed("pool") }
        defer { release(resource) }
        return try await work(resource)
    }

    private func lease() async throws -> Resource? {
        switch grant() {
        case .ready(let resource):
            return resource
        case .open:
            do {
                let resource = try await open()
                // Kept in `created` either way, so whoever closes the pool closes it too; but a
                // pool closed meanwhile hands out nothing.
                let closed = state.withLock { state in
                    state.opening -= 1
                    state.created.append(resource)
                    if state.closed { state.available.append(resource) }
                    return state.closed
                }
                return closed ? nil : resource
            } catch {
                // The place this opening took is free again: the first waiter gets to try (it
                // may have been waiting for exactly this resource, with none other to come back).
                let waiter = state.withLock { state -> CheckedContinuation<Wake, Never>? in
                    state.opening -= 1
                    return state.waiters.isEmpty ? nil : state.waiters.removeFirst()
                }
                waiter?.resume(returning: .room)
                throw error
            }
        case .wait:
            let wake = await withCheckedContinuation { (continuation: CheckedContinuation<Wake, Never>) in
                let immediate: Wake? = state.withLock { state in
                    if state.closed { return .closed }
                    if let resource = state.available.popLast() { return .resource(resource) }
                    // An opening that failed since `grant` freed a place nobody would hand on.
                    if state.created.count + state.opening < capacity { return .room }
                    state.waiters.append(continuation)
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
            switch wake {
            case .resource(let resource): return resource
            case .closed: return nil
            case .room: return try await lease()
            }
        }
    }

    private func grant() -> Grant {
        state.withLock { state in
            if state.closed { return .ready(nil) }
            if let resource = state.available.popLast() { return .ready(resource) }
            if state.created.count + state.opening < capacity {
                state.opening += 1
                return .open
            }
            return .wait
        }
    }

    private func release(_ resource: Resource) {
        let waiter = state.withLock { state -> CheckedContinuation<Wake, Never>? in
            if state.waiters.isEmpty {
                state.available.append(resource)
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: .resource(resource))
    }

    /// Closes the pool and waits (bounded) until every lease is returned; answers the resources
    /// that were, for the caller to close. One still leased after the bound is left alone.
    func drain(logger: Logger) async -> [Resource] {
        close()
        for _ in 0..<1_000 where state.withLock({ $0.available.count < $0.created.count }) {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return state.withLock { state in
            if state.available.count < state.created.count {
                logger.error("connections still in use at shutdown are left open", metadata: ["count": "\(state.created.count - state.available.count)"])
            }
            defer { state.available.removeAll() }
            return state.available
        }
    }

    /// Refuses further leases and wakes every waiter with nothing.
    func close() {
        let waiters = state.withLock { state in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: .closed) }
    }
}
