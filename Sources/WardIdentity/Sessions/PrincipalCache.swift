import Foundation
import Synchronization
import WardHTTP

/// Principals of recently seen sessions, so a role check is answered from memory. An entry is
/// trusted for `freshness`; after that the session, user and roles are read again, once: the
/// requests of that session arriving meanwhile wait for the one reload rather than each reading
/// (and writing the session's last-seen time) for itself. Changes made through this node evict
/// the affected entries at once, and a reload that began before such a change is not kept; other
/// nodes see changes within `freshness`.
final class PrincipalCache: Sendable {
    struct Entry {
        var principal: Principal
        var loadedAt: ContinuousClock.Instant
        /// The last request of this session seen by this node.
        var lastSeen: Date
        /// The last-seen time written to the database.
        var persistedLastSeen: Date
    }

    /// How long a cached principal is trusted: the bound on how late a change made on another
    /// node (a revoked role, a logout) takes effect here.
    static let freshness: Duration = .seconds(5)

    private struct State {
        var entries: [String: Entry] = [:]
        /// The reload under way for each key (its number), which a request may join.
        var reloads: [String: Int] = [:]
        /// The requests waiting for each reload, by reload number and then their own.
        var waiters: [Int: [Int: CheckedContinuation<Principal, any Error>]] = [:]
        /// Counts evictions: a reload that saw it change since it began stores nothing.
        var generation = 0
        var reloadsStarted = 0
        var reloadsJoined = 0
        var waitersSeen = 0
    }

    private let state = Mutex(State())

    static func key(tenant: String, session: String) -> String { tenant + "/" + session }

    func entry(_ key: String) -> Entry? {
        state.withLock { $0.entries[key] }
    }

    /// The principal `load` reads for `key`, joining the reload of `key` already under way if
    /// there is one. `load` gets the eviction generation it began in, for `store(_:_:loadedIn:)`.
    /// It runs in a task of its own, so a caller that gives up (cancelled: its deadline passed)
    /// leaves at once without failing the others waiting on it.
    func reload(_ key: String, _ load: @escaping @Sendable (_ generation: Int) async throws -> Principal) async throws -> Principal {
        let waiter = state.withLock { state in
            state.waitersSeen += 1
            return state.waitersSeen
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Principal, any Error>) in
                state.withLock { state in
                    // Checked under the lock the cancellation handler takes: either it finds
                    // this waiter registered, or the waiter sees the cancellation here.
                    guard !Task.isCancelled else { return continuation.resume(throwing: CancellationError()) }
                    let number: Int
                    if let running = state.reloads[key] {
                        state.reloadsJoined += 1
                        number = running
                    } else {
                        state.reloadsStarted += 1
                        number = state.reloadsStarted
                        state.reloads[key] = number
                        let generation = state.generation
                        Task {
                            let result: Result<Principal, any Error>
                            do { result = .success(try await load(generation)) } catch { result = .failure(error) }
                            self.finish(number, key: key, result)
                        }
                    }
                    state.waiters[number, default: [:]][waiter] = continuation
                }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Principal, any Error>? in
                for (number, waiting) in state.waiters where waiting[waiter] != nil {
                    return state.waiters[number]?.removeValue(forKey: waiter)
                }
                return nil
            }
            continuation?.resume(throwing: CancellationError())
        }
    }

    /// Answers everyone waiting for reload `number` of `key`, and lets the next request start
    /// a reload of its own.
    private func finish(_ number: Int, key: String, _ result: Result<Principal, any Error>) {
        let waiting = state.withLock { state in
            if state.reloads[key] == number { state.reloads[key] = nil }
            return state.waiters.removeValue(forKey: number) ?? [:]
        }
        for continuation in waiting.values { continuation.resume(with: result) }
    }

    /// Keeps `entry` for `key`, unless something was evicted since the load that read it began
    /// (`generation`): it may hold what that eviction removed.
    func store(_ key: String, _ entry: Entry, loadedIn generation: Int) {
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries.count > 100_000 { state.entries.removeAll(keepingCapacity: true) }
            state.entries[key] = entry
        }
    }

    /// Marks the session seen now.
    func touch(_ key: String, at date: Date) {
        state.withLock { $0.entries[key]?.lastSeen = date }
    }

    func evict(_ key: String) {
        evict { entries in _ = entries.removeValue(forKey: key) }
    }

    /// Evicts every session of `user` in `tenant` (after a role change, a disable).
    func evict(tenant: String, user: String) {
        evict { entries in entries = entries.filter { !($0.value.principal.tenant == tenant && $0.value.principal.userID == user) } }
    }

    /// Evicts every session of `tenant` (after a role's permissions change).
    func evict(tenant: String) {
        evict { entries in entries = entries.filter { $0.value.principal.tenant != tenant } }
    }

    /// Removes entries, and forgets the reloads under way: requests arriving after an eviction
    /// read afresh rather than join a reload that may predate the change.
    private func evict(_ remove: (inout [String: Entry]) -> Void) {
        state.withLock { state in
            remove(&state.entries)
            state.generation += 1
            state.reloads.removeAll()
        }
    }

    /// Reloads begun, and requests that waited for one begun before them (for tests).
    var reloadCounts: (started: Int, joined: Int) { state.withLock { ($0.reloadsStarted, $0.reloadsJoined) } }
}
