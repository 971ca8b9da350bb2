import Logging
import SQLKit
import Synchronization

/// The one writer connection of a SQLite file, shared by group commit. Callers take turns on
/// the connection; each runs its work in its own task (so cancellation and task-locals behave as
/// usual) inside a savepoint of a transaction that the callers who arrived meanwhile share. The
/// last of them commits once for all: with `synchronous=FULL` a commit waits for the disk
/// (about a millisecond here), and one flush per caller would cap every write path at about a
/// thousand a second. Nobody is answered before the commit holding their work is durable, and a
/// caller whose work fails is rolled back to its savepoint without touching the others'.
final class SQLiteWriter: Sendable {
    private struct State {
        /// Whether some caller holds the connection (running its work, or committing).
        var turnHeld = false
        /// Callers waiting for their turn, in arrival order.
        var waiting: [CheckedContinuation<Void, any Error>] = []
        /// Callers whose work is in the open transaction, waiting for its commit.
        var awaitingCommit: [CheckedContinuation<Void, any Error>] = []
        var inTransaction = false
        var unitsInTransaction = 0
        var closed = false
    }

    /// The most callers one commit takes; the rest start the next transaction.
    static let maximumBatch = 256

    private let state = Mutex(State())
    private let commitCount = Atomic<Int>(0)
    private let handle: SQLiteHandle
    private let logger: Logger

    private let checkpointer: SQLiteCheckpointer
    private let commitCost = CommitCost()

    init(handle: SQLiteHandle, logger: Logger) {
        self.handle = handle
        self.logger = logger
        self.checkpointer = SQLiteCheckpointer(writer: handle, path: handle.path, logger: logger)
    }

    /// Commits so far (for tests: group commit shows as fewer commits than transactions).
    var commits: Int { commitCount.load(ordering: .relaxed) }

    /// Callers waiting for the connection.
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Runs `work` in a transaction (or a savepoint of a shared one); returns once it is committed.
    func transaction<Result: Sendable>(_ work: (any SQLDatabase) async throws -> Result) async throws -> Result {
        try await acquire()
        let opens = state.withLock { !$0.inTransaction }
        do {
            if opens {
                try await begin()
                state.withLock { $0.inTransaction = true }
            } else {
                try handle.execute("SAVEPOINT ward_unit")
            }
        } catch {
            await abandon(openedTransaction: opens, error: error)
            throw error
        }

        let result: Result
        do {
            result = try await work(SQLiteSession(handle: handle, placement: .inline, logger: logger))
            if !opens { try handle.execute("RELEASE ward_unit") }
        } catch {
            if opens {
                try? handle.execute("ROLLBACK")
            } else {
                try? handle.execute("ROLLBACK TO ward_unit")
                try? handle.execute("RELEASE ward_unit")
            }
            await abandon(openedTransaction: opens, error: error)
            throw error
        }
        try await finish()
        return result
    }

    /// Runs `work` on the connection outside any transaction (VACUUM, pragmas), once the
    /// transaction in progress, if any, is committed.
    func outsideTransaction<Result: Sendable>(_ work: (any SQLDatabase) async throws -> Result) async throws -> Result {
        try await acquire()
        defer { release() }
        if state.withLock({ $0.inTransaction }) {
            if let failure = await commit() { throw failure }
        }
        return try await work(SQLiteSession(handle: handle, placement: .threadPool, logger: logger))
    }

    /// Refuses further work, waits (bounded) for the caller holding the connection, and closes it.
    func close() async {
        let waiting = state.withLock { state in
            state.closed = true
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for waiter in waiting { waiter.resume(throwing: StorageError.closed("sqlite writer")) }
        for _ in 0..<1_000 where state.withLock({ $0.turnHeld }) {
            try? await Task.sleep(for: .milliseconds(10))
        }
        await checkpointer.close()
        if state.withLock({ $0.turnHeld }) {
            logger.error("sqlite writer still in use at shutdown; its connection is left open", metadata: ["path": "\(handle.path)"])
            return
        }
        handle.close()
    }

    // MARK: Turns

    private func acquire() async throws {
        let immediate = state.withLock { state -> Bool? in
            if state.closed { return nil }
            if state.turnHeld { return false }
            state.turnHeld = true
            return true
        }
        switch immediate {
        case .some(true): return
        case .none: throw StorageError.closed("sqlite writer")
        case .some(false):
            try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
                let granted = state.withLock { state -> Bool? in
                    if state.closed { return nil }
                    if state.turnHeld {
                        state.waiting.append(waiter)
                        return false
                    }
                    state.turnHeld = true
                    return true
                }
                switch granted {
                case .some(true): waiter.resume()
                case .none: waiter.resume(throwing: StorageError.closed("sqlite writer"))
                case .some(false): break
                }
            }
        }
    }

    /// Gives the connection to the next caller waiting, or frees it.
    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if state.waiting.isEmpty {
                state.turnHeld = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }

    /// After a caller's work succeeded: joins the callers awaiting the commit and hands the
    /// connection on when others wait and the batch has room, else commits for all.
    private func finish() async throws {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            state.unitsInTransaction += 1
            guard !state.waiting.isEmpty, state.unitsInTransaction < Self.maximumBatch else { return nil }
            return state.waiting.removeFirst()
        }
        guard let next else {
            let failure = await commit()
            release()
            if let failure { throw failure }
            return
        }
        // Registered before the next caller runs: it may be the one that commits.
        try await withCheckedThrowingContinuation { (me: CheckedContinuation<Void, any Error>) in
            state.withLock { $0.awaitingCommit.append(me) }
            next.resume()
        }
    }

    /// After a caller's work failed and was rolled back: the others' work in the transaction
    /// goes on to be committed, unless SQLite ended the transaction itself (an I/O error, a full
    /// disk), in which case their work is gone and they are told so.
    private func abandon(openedTransaction: Bool, error: any Error) async {
        let inTransaction = state.withLock { $0.inTransaction }
        if inTransaction && handle.isAutocommit {
            let awaiting = state.withLock { state in
                state.inTransaction = false
                state.unitsInTransaction = 0
                defer { state.awaitingCommit.removeAll() }
                return state.awaitingCommit
            }
            for waiter in awaiting { waiter.resume(throwing: error) }
            release()
            return
        }
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard state.inTransaction, !state.waiting.isEmpty, state.unitsInTransaction < Self.maximumBatch else { return nil }
            return state.waiting.removeFirst()
        }
        if let next {
            next.resume()
            return
        }
        if inTransaction { _ = await commit() }
        release()
    }

    /// Commits the open transaction (where `CommitCost` says: it waits for the disk) and answers
    /// every caller whose work it holds. Returns the failure, if any. Called by the turn holder.
    private func commit() async -> (any Error)? {
        var failure: (any Error)?
        do {
            let catchUp = checkpointer.writerMustCatchUp
            let commitCost = self.commitCost
            let work = { @Sendable (handle: SQLiteHandle) throws in
                let started = ContinuousClock.now
                try handle.execute("COMMIT")
                commitCost.record(ContinuousClock.now - started)
                // The log only starts over once a checkpoint has copied all of it, which one
                // running beside a busy writer never quite does: past the limit the writer copies
                // the (small) rest itself while nothing new is written.
                if catchUp { try? handle.execute("PRAGMA wal_checkpoint(PASSIVE)") }
            }
            if !catchUp && commitCost.isSmall {
                try work(handle)
            } else {
                try await handle.onThreadPool(work)
            }
            commitCount.add(1, ordering: .relaxed)
            checkpointer.committed()
        } catch {
            failure = error
            if !handle.isAutocommit { try? handle.execute("ROLLBACK") }
            logger.error("sqlite commit failed", metadata: ["path": "\(handle.path)", "error": "\(error)"])
        }
        let awaiting = state.withLock { state in
            state.inTransaction = false
            state.unitsInTransaction = 0
            defer { state.awaitingCommit.removeAll() }
            return state.awaitingCommit
        }
        for waiter in awaiting {
            if let failure { waiter.resume(throwing: failure) } else { waiter.resume() }
        }
        return failure
    }

    /// Takes the write lock: on the calling thread when it is free, else on the blocking pool,
    /// waiting up to the busy timeout (another process, such as a CLI, holds it).
    private func begin() async throws {
        do {
            try handle.execute("BEGIN IMMEDIATE")
        } catch let failure as SQLiteFailure where failure.isBusy {
            try await handle.onThreadPool { handle in try handle.waitingForLocks { try $0.execute("BEGIN IMMEDIATE") } }
        }
    }
}

/// How long this file's commits take (a moving average of the flush), deciding where the next
/// one runs. A commit waits for the disk; on the blocking pool it costs two thread hand-overs,
/// and the hand-over back queues behind every ready request, which is most of a busy writer's
/// cycle. So while commits are quick (a local SSD flushes in well under a millisecond) the
/// caller commits on its own thread, as it already runs the statements; once they are slow (a
/// network disk, a flush stalled), they go to the pool, where they hold no request's thread.
/// A single stall is paid once inline and then moves the average over the bound.
final class CommitCost: Sendable {
    /// Commits are run inline while the average is below this.
    static let inlineBound: Duration = .microseconds(1_000)
    private let averageNanoseconds = Atomic<Int>(Int.max / 2)

    /// Whether the average commit is quick enough to run on the caller's thread.
    var isSmall: Bool {
        averageNanoseconds.load(ordering: .relaxed) < Self.nanoseconds(Self.inlineBound)
    }

    /// Adds one commit's duration to the average (weight one eighth; the first sets it). Commits
    /// of one file are never concurrent: the writer holds its turn through them.
    func record(_ duration: Duration) {
        let sample = Self.nanoseconds(duration), average = averageNanoseconds.load(ordering: .relaxed)
        averageNanoseconds.store(average >= Int.max / 2 ? sample : average + (sample - average) / 8, ordering: .relaxed)
    }

    private static func nanoseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds) * 1_000_000_000 + Int(duration.components.attoseconds / 1_000_000_000)
    }
}
