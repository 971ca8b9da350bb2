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
        var waiters: [CheckedContinuation<Handoff, Never>] = []
        var closed = false
    }

    private enum Grant {
        case ready(Resource?)
        case open
        case wait
    }

    /// What a waiting caller is woken with.
    private enum Handoff: Sendable {
        case resource(Resource)
        case closed
        /// Room to open one: an open failed, so no resource is coming from that caller.
        case mayOpen
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
            return try await openOne()
        case .wait:
            let handoff = await withCheckedContinuation { (continuation: CheckedContinuation<Handoff, Never>) in
                let immediate: Handoff? = state.withLock { state in
                    if state.closed { return .closed }
                    if let resource = state.available.popLast() { return .resource(resource) }
                    if state.created.count + state.opening < capacity {
                        state.opening += 1
                        return .mayOpen
                    }
                    state.waiters.append(continuation)
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
            switch handoff {
            case .resource(let resource): return resource
            case .closed: return nil
            case .mayOpen: return try await openOne()
            }
        }
    }

    /// Opens a resource in the room reserved for it (`opening` already counts it).
    private func openOne() async throws -> Resource? {
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
            // The room is free again: the first caller waiting gets to try, rather than wait
            // for a release that may never come (no resource may be open at all).
            let next = state.withLock { state -> CheckedContinuation<Handoff, Never>? in
                state.opening -= 1
                guard !state.closed, !state.waiters.isEmpty, state.created.count + state.opening < capacity else { return nil }
                state.opening += 1
                return state.waiters.removeFirst()
            }
            next?.resume(returning: .mayOpen)
            throw error
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
        let waiter = state.withLock { state -> CheckedContinuation<Handoff, Never>? in
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
