package import Logging
import SQLKit
import Synchronization

/// The read replicas of one PostgreSQL primary (`DATABASE_READ_URL`, several allowed), and where
/// each read goes. A monitor (`poll`, every second in a node) asks the primary how far it has
/// written and each replica how far it has replayed; a replica that does not answer, is not a
/// standby, or lags more than `maximumLag` serves no reads until it is back within it. A read
/// goes to a serving replica that has replayed the request's `ReadConsistency.minimum`, taken in
/// turn; when none has, to the primary. Replay positions only grow, so one the monitor saw is a
/// floor of where the replica is now: a read it routes never misses a commit it waits for.
package final class ReplicaSet: Sendable {
    /// One replica as the monitor last saw it.
    package struct Status: Sendable {
        package let name: String
        package let displayName: String
        /// Answered, is a standby, and lags at most the bound: it serves reads.
        package var serving = false
        package var problem: String? = "not checked yet"
        package var replayed: WALPosition?
        /// How long ago the primary had written what the replica has not replayed yet (zero when
        /// it has replayed all the primary had at the last sample); the resolution is the poll.
        package var lagSeconds: Double?
        package var lagBytes: UInt64?
    }

    private struct Member {
        let name: String
        let database: any Database
    }

    private struct State {
        var statuses: [Status]
        /// The primary's write position at each recent poll, oldest first.
        var samples: [(position: WALPosition, at: ContinuousClock.Instant)] = []
        var turn = 0
        /// Reads routed: to the primary, then to each replica.
        var primaryReads = 0
        var replicaReads: [Int]
    }

    private let primary: any Database
    private let members: [Member]
    package let maximumLag: Duration
    private let checkTimeout: Duration
    private let logger: Logger
    private let state: Mutex<State>

    /// Replicas are named `read_replica`, `read_replica_2`, … in the order given.
    package init(primary: any Database, replicas: [any Database], maximumLag: Duration, checkTimeout: Duration = .seconds(2), logger: Logger) {
        let members = replicas.enumerated().map { index, database in
            Member(name: index == 0 ? "read_replica" : "read_replica_\(index + 1)", database: database)
        }
        self.primary = primary
        self.members = members
        self.maximumLag = maximumLag
        self.checkTimeout = checkTimeout
        self.logger = logger
        self.state = Mutex(State(
            statuses: members.map { Status(name: $0.name, displayName: $0.database.displayName) },
            replicaReads: Array(repeating: 0, count: members.count)
        ))
    }

    /// The replicas' databases with their names, for readiness and pool metrics.
    package var databases: [(name: String, database: any Database)] { members.map { ($0.name, $0.database) } }

    /// Every replica as last seen.
    package var statuses: [Status] { state.withLock { $0.statuses } }

    /// Reads routed so far, by target (`primary` or a replica's name).
    package var reads: [(target: String, count: Int)] {
        let (primary, replicas) = state.withLock { ($0.primaryReads, $0.replicaReads) }
        return [("primary", primary)] + zip(members, replicas).map { ($0.name, $1) }
    }

    /// Where a read under `consistency` goes: a serving replica that has replayed its minimum,
    /// else the primary. Outside a request, or in one that writes, always the primary.
    package func database(for consistency: ReadConsistency?) -> any Database {
        guard let consistency, consistency.allowsReplica else { return primary }
        let minimum = consistency.minimum
        let chosen = state.withLock { state -> Int? in
            let count = state.statuses.count
            for step in 0..<count {
                let index = (state.turn + step) % count
                let status = state.statuses[index]
                guard status.serving, let replayed = status.replayed else { continue }
                if let minimum, replayed < minimum { continue }
                state.turn = index + 1
                state.replicaReads[index] += 1
                return index
            }
            state.primaryReads += 1
            return nil
        }
        guard let chosen else { return primary }
        return members[chosen].database
    }

    /// One round of the monitor: the primary's position, then every replica's, concurrently.
    package func poll(now: ContinuousClock.Instant = .now) async {
        let written = try? await bounded { try await Self.position(of: self.primary, query: "SELECT pg_current_wal_lsn()::text AS position") }
        if let written {
            state.withLock { state in
                state.samples.append((written, now))
                // Five minutes of samples, at a poll a second: lag beyond is reported as at least that.
                if state.samples.count > 300 { state.samples.removeFirst(state.samples.count - 300) }
            }
        }
        let checks = await withTaskGroup(of: Check.self) { group in
            for (index, member) in members.enumerated() {
                group.addTask {
                    do {
                        return Check(index: index, replayed: try await self.bounded { try await Self.replayed(by: member.database) }, problem: nil)
                    } catch {
                        return Check(index: index, replayed: nil, problem: error is NotAStandby ? "not a standby" : "unavailable")
                    }
                }
            }
            var results: [Check] = []
            for await result in group { results.append(result) }
            return results
        }
        let limit = Double(maximumLag.components.seconds) + Double(maximumLag.components.attoseconds) / 1e18
        let changes = state.withLock { state -> [(String, Bool, String?)] in
            var changes: [(String, Bool, String?)] = []
            for check in checks where state.statuses.indices.contains(check.index) {
                var status = state.statuses[check.index]
                let wasServing = status.serving
                switch check.replayed {
                case nil:
                    status.serving = false
                    status.problem = check.problem
                    status.lagSeconds = nil
                    status.lagBytes = nil
                case let replayed?:
                    status.replayed = replayed
                    let lag = Self.lag(of: replayed, samples: state.samples, now: now)
                    status.lagSeconds = lag
                    status.lagBytes = state.samples.last.map { WALPosition.bytes(from: replayed, to: $0.position) }
                    if let lag, lag > limit {
                        status.serving = false
                        status.problem = "lagging"
                    } else if lag == nil {
                        // The primary gave no position: how far behind is unknown.
                        status.serving = false
                        status.problem = "lag unknown"
                    } else {
                        status.serving = true
                        status.problem = nil
                    }
                }
                if status.serving != wasServing { changes.append((status.name, status.serving, status.problem)) }
                state.statuses[check.index] = status
            }
            return changes
        }
        for (name, serving, problem) in changes {
            if serving {
                logger.info("read replica serving reads", metadata: ["replica": "\(name)"])
            } else {
                logger.warning("read replica dropped from reads", metadata: ["replica": "\(name)", "reason": "\(problem ?? "")"])
            }
        }
    }

    /// Seconds since the primary first had log the replica has not replayed: zero when it has
    /// replayed the newest sample; nil without samples.
    static func lag(of replayed: WALPosition, samples: [(position: WALPosition, at: ContinuousClock.Instant)], now: ContinuousClock.Instant) -> Double? {
        guard let newest = samples.last else { return nil }
        if replayed >= newest.position { return 0 }
        guard let firstAhead = samples.first(where: { $0.position > replayed }) else { return nil }
        let elapsed = now - firstAhead.at
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    private struct NotAStandby: Error {}

    /// One replica's answer to a poll: how far it replayed, or why it gave none. A struct, not
    /// an `(Int, Result<WALPosition, any Error>)`: a release build of Swift 6.3 read that
    /// tuple's index wrong out of the task group (the node trapped on the subscript).
    private struct Check: Sendable {
        let index: Int
        let replayed: WALPosition?
        let problem: String?
    }

    private static func replayed(by replica: any Database) async throws -> WALPosition {
        let row = try await replica.read { database in
            try await database.raw("SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS position").first()
        }
        // A server out of recovery (not a replica, or one promoted) holds writes the primary
        // never saw: reading from it could show anything.
        guard let row, try row.decode(column: "standby", as: Bool.self) else { throw NotAStandby() }
        guard let text = try row.decode(column: "position", as: String?.self), let position = WALPosition(text) else { throw NotAStandby() }
        return position
    }

    private static func position(of database: any Database, query: String) async throws -> WALPosition {
        let text = try await database.read { db in
            try await db.raw(SQLQueryString(query)).first()?.decode(column: "position", as: String.self)
        }
        guard let text, let position = WALPosition(text) else { throw StorageError.missingColumn("position") }
        return position
    }

    private struct TimedOut: Error {}

    private func bounded<Result: Sendable>(_ work: @escaping @Sendable () async throws -> Result) async throws -> Result {
        let limit = checkTimeout
        return try await withThrowingTaskGroup(of: Result.self) { group in
            // Abandoned when the limit passes: its connection is closed rather than waited on.
            group.addTask { try await DatabaseCancellation.$abandonsWork.withValue(true) { try await work() } }
            group.addTask {
                try await Task.sleep(for: limit)
                throw TimedOut()
            }
            defer { group.cancelAll() }
            guard let result = try await group.next() else { throw TimedOut() }
            return result
        }
    }
}
