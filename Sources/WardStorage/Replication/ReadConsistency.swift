import Synchronization

/// What one request's reads may use and what its writes committed, for read replicas. A request
/// that changes nothing (GET, HEAD) may read from a replica, but only from one that has replayed
/// everything its session committed; a request that writes reads from the primary throughout.
/// Set by the edge for each request (`current`); commits on the primary record their position
/// here and, once the request's session is known, in the node's `SessionPositions`.
package final class ReadConsistency: Sendable {
    /// The request's consistency; nil outside requests (jobs, start-up work), whose reads always
    /// go to the primary: a job enqueued by a write must find what that write stored.
    @TaskLocal package static var current: ReadConsistency?

    /// Whether reads may go to a replica at all.
    package let allowsReplica: Bool
    private let sessions: SessionPositions?
    private let state = Mutex<State>(State())

    private struct State {
        var minimum: WALPosition?
        var committed: WALPosition?
        var session: String?
    }

    /// `minimum` is the position the client says it has seen (the `Ward-Read-After` header or
    /// cookie another node set after its write).
    package init(allowsReplica: Bool, minimum: WALPosition? = nil, sessions: SessionPositions? = nil) {
        self.allowsReplica = allowsReplica
        self.sessions = sessions
        state.withLock { $0.minimum = minimum }
    }

    /// The position a replica must have replayed to serve this request.
    package var minimum: WALPosition? { state.withLock { $0.minimum } }

    /// The position of this request's last commit, if it wrote.
    package var committed: WALPosition? { state.withLock { $0.committed } }

    /// Ties the request to its session (`key`): what the session committed earlier, on this
    /// node, must be visible to it, and what it commits now is remembered for its next requests.
    package func attach(session key: String) {
        let remembered = sessions?.position(of: key)
        let pending = state.withLock { state -> WALPosition? in
            state.session = key
            state.minimum = Self.later(state.minimum, remembered)
            return state.committed
        }
        if let pending { sessions?.record(pending, for: key) }
    }

    /// Records a commit on the primary at `position`.
    package func committed(at position: WALPosition) {
        let session = state.withLock { state -> String? in
            state.committed = Self.later(state.committed, position)
            state.minimum = Self.later(state.minimum, position)
            return state.session
        }
        if let session { sessions?.record(position, for: session) }
    }

    private static func later(_ a: WALPosition?, _ b: WALPosition?) -> WALPosition? {
        guard let a else { return b }
        guard let b else { return a }
        return max(a, b)
    }
}

/// The last commit position of each session seen by this node (read-your-writes). Positions
/// only matter while a replica could lag behind them, so the map is simply emptied when it grows
/// past its bound; a session forgotten reads at worst what a replica within the lag bound has.
package final class SessionPositions: Sendable {
    private let positions = Mutex<[String: WALPosition]>([:])
    private let limit: Int

    package init(limit: Int = 100_000) {
        self.limit = limit
    }

    package func position(of session: String) -> WALPosition? {
        positions.withLock { $0[session] }
    }

    package func record(_ position: WALPosition, for session: String) {
        positions.withLock { positions in
            if positions.count >= limit, positions[session] == nil { positions.removeAll(keepingCapacity: true) }
            if let known = positions[session], known >= position { return }
            positions[session] = position
        }
    }
}
