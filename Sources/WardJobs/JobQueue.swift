package import Foundation
package import SQLKit
package import WardCore
package import WardStorage

/// The durable job queue in the control-plane database. Every change of a job's state is one
/// statement guarded by the state (and, for a running job, the lease holder) it expects, so a
/// worker that lost its lease can no longer touch the job.
package final class JobQueue: Sendable {
    /// How many jobs of a kind wait, and how long the oldest due one has waited (seconds).
    package typealias Depth = (kind: String, waiting: Int, oldestDueAge: Double)

    private let database: any Database
    private let table: SQLQualifiedTable
    /// The time leases, due times and retries are decided by (a `TestClock` in tests).
    package let clock: any WallClock

    package init(storage: Storage, clock: any WallClock = SystemClock()) {
        self.database = storage.controlPlane
        self.table = SQLQualifiedTable("jobs", space: storage.controlPlaneTarget.schema)
        self.clock = clock
    }

    /// What to enqueue.
    package struct Request: Sendable {
        package var kind: String
        package var payload: String
        package var tenant: String?
        package var runAt: Date
        package var maxAttempts: Int
        /// A key that makes enqueueing idempotent: a second request with the same key is
        /// dropped (a scheduled firing, one provisioning run).
        package var uniqueKey: String?

        package init(kind: String, payload: some Encodable, tenant: String? = nil, runAt: Date = Date(), maxAttempts: Int, uniqueKey: String? = nil) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            self.kind = kind
            self.payload = String(decoding: try encoder.encode(payload), as: UTF8.self)
            self.tenant = tenant
            self.runAt = runAt
            self.maxAttempts = maxAttempts
            self.uniqueKey = uniqueKey
        }
    }

    // MARK: Enqueueing

    /// Enqueues a job; returns it, or nil when its unique key was already used.
    @discardableResult
    package func enqueue(_ request: Request) async throws -> Job? {
        let table = self.table
        return try await database.transaction { database in try await Self.enqueue(request, into: table, on: database) }
    }

    /// Enqueues inside the caller's open transaction, which must be on the control plane (the
    /// queue's own database), so the job exists exactly when the caller's other changes do.
    package func enqueue(_ request: Request, in transaction: any SQLDatabase) async throws -> Job? {
        try await Self.enqueue(request, into: table, on: transaction)
    }

    private static func enqueue(_ request: Request, into table: SQLQualifiedTable, on database: any SQLDatabase) async throws -> Job? {
        let now = Timestamp.now()
        let job = Job(
            id: UUIDv7.id(), kind: request.kind, payload: request.payload, tenant: request.tenant,
            state: .queued, attempts: 0, maxAttempts: request.maxAttempts, runAt: Timestamp.text(request.runAt),
            leaseHolder: nil, leaseExpiresAt: nil, lastError: nil, uniqueKey: request.uniqueKey,
            createdAt: now, updatedAt: now, startedAt: nil, finishedAt: nil
        )
        try await database.raw("""
            INSERT INTO \(table) (id, kind, payload, tenant, state, attempts, max_attempts, run_at, unique_key, created_at, updated_at)
            VALUES (\(bind: job.id), \(bind: job.kind), \(bind: job.payload), \(bind: job.tenant), 'queued', 0, \(bind: job.maxAttempts),
                    \(bind: job.runAt), \(bind: job.uniqueKey), \(bind: now), \(bind: now))
            ON CONFLICT (unique_key) DO NOTHING
            """).run()
        let stored = try await database.select().columns(Job.columns).from(table).where("id", .equal, job.id).first(decoding: Job.self)
        return stored
    }

    // MARK: Working

    /// Claims the earliest due job of one of `kinds` for `worker`, leased until `lease` from
    /// now; nil when none is due. PostgreSQL skips rows other workers are claiming (`FOR
    /// UPDATE SKIP LOCKED`); SQLite runs the one statement in its single write transaction.
    /// The job's `leaseHolder` names this claim alone (the worker and a nonce): renewing and
    /// settling go by it, so a late answer from an earlier claim of the same job, even by the
    /// same worker, changes nothing.
    package func claim(worker: String, kinds: [String], lease: Duration, only id: String? = nil) async throws -> Job? {
        guard !kinds.isEmpty else { return nil }
        let table = self.table
        let holder = "\(worker)#\(UUIDv7.make().uuidString.suffix(12).lowercased())"
        let now = clock.now
        let nowText = Timestamp.text(now), until = Timestamp.text(now.addingTimeInterval(lease.timeInterval))
        let lock: SQLQueryString = database.dialect == .postgres ? "FOR UPDATE SKIP LOCKED" : ""
        let onlyID: SQLQueryString = id.map { "AND id = \(bind: $0)" } ?? ""
        let kindList = kinds.map { $0 as any Encodable & Sendable }
        return try await database.transaction { database in
            try await database.raw("""
                UPDATE \(table) SET state = 'running', attempts = attempts + 1, lease_holder = \(bind: holder),
                    lease_expires_at = \(bind: until), started_at = \(bind: nowText), updated_at = \(bind: nowText), finished_at = NULL
                WHERE id = (
                    SELECT id FROM \(table) WHERE state IN ('queued', 'failed') AND run_at <= \(bind: nowText) AND kind IN (\(binds: kindList)) \(onlyID)
                    ORDER BY run_at, id LIMIT 1 \(lock)
                )
                RETURNING \(unsafeRaw: Job.columns.joined(separator: ", "))
                """).first(decoding: Job.self)
        }
    }

    /// Extends the lease of claim `worker` (a job's `leaseHolder`) on job `id`; false when that
    /// claim no longer holds it.
    package func renew(_ id: String, worker: String, lease: Duration) async throws -> Bool {
        let until = Timestamp.text(clock.now.addingTimeInterval(lease.timeInterval))
        return try await finish(id, worker: worker, set: "lease_expires_at = \(bind: until)")
    }

    /// Marks job `id` succeeded; false when `worker` no longer held it.
    @discardableResult
    package func complete(_ id: String, worker: String) async throws -> Bool {
        let now = Timestamp.text(clock.now)
        return try await finish(id, worker: worker, set: """
            state = 'succeeded', lease_holder = NULL, lease_expires_at = NULL, last_error = NULL, finished_at = \(bind: now)
            """)
    }

    /// Records a failed attempt: the job waits until `retryAt`, or is dead when that is nil.
    @discardableResult
    package func fail(_ id: String, worker: String, error: String, retryAt: Date?) async throws -> Bool {
        let now = Timestamp.text(clock.now)
        let message = String(error.prefix(2000))
        if let retryAt {
            return try await finish(id, worker: worker, set: """
                state = 'failed', lease_holder = NULL, lease_expires_at = NULL, last_error = \(bind: message), run_at = \(bind: Timestamp.text(retryAt))
                """)
        }
        return try await finish(id, worker: worker, set: """
            state = 'dead', lease_holder = NULL, lease_expires_at = NULL, last_error = \(bind: message), finished_at = \(bind: now)
            """)
    }

    /// Gives job `id` back unfinished (its worker is shutting down): queued again at once, the
    /// interrupted attempt not counted.
    @discardableResult
    package func release(_ id: String, worker: String) async throws -> Bool {
        try await finish(id, worker: worker, set: """
            state = 'queued', attempts = attempts - 1, lease_holder = NULL, lease_expires_at = NULL, run_at = \(bind: Timestamp.text(clock.now))
            """)
    }

    private func finish(_ id: String, worker: String, set assignments: SQLQueryString) async throws -> Bool {
        let table = self.table
        let now = Timestamp.text(clock.now)
        return try await database.transaction { database in
            try await database.raw("""
                UPDATE \(table) SET \(assignments), updated_at = \(bind: now)
                WHERE id = \(bind: id) AND state = 'running' AND lease_holder = \(bind: worker)
                RETURNING id
                """).first() != nil
        }
    }

    /// Takes back jobs whose worker stopped renewing its lease (it crashed or hung): queued
    /// again when attempts remain, dead otherwise. Returns the jobs that died this way.
    package func reapExpiredLeases() async throws -> [Job] {
        let table = self.table
        let now = Timestamp.text(clock.now)
        return try await database.transaction { database in
            try await database.raw("""
                UPDATE \(table) SET state = 'queued', lease_holder = NULL, lease_expires_at = NULL, updated_at = \(bind: now),
                    last_error = 'lease expired: the worker stopped during the attempt'
                WHERE state = 'running' AND lease_expires_at < \(bind: now) AND attempts < max_attempts
                """).run()
            return try await database.raw("""
                UPDATE \(table) SET state = 'dead', lease_holder = NULL, lease_expires_at = NULL, updated_at = \(bind: now), finished_at = \(bind: now),
                    last_error = 'lease expired: the worker stopped during the final attempt'
                WHERE state = 'running' AND lease_expires_at < \(bind: now)
                RETURNING \(unsafeRaw: Job.columns.joined(separator: ", "))
                """).all(decoding: Job.self)
        }
    }

    // MARK: Inspecting and operating

    /// Job `id`, or nil.
    package func find(_ id: String) async throws -> Job? {
        let table = self.table
        return try await database.read { database in
            try await database.select().columns(Job.columns).from(table).where("id", .equal, id).first(decoding: Job.self)
        }
    }

    /// Jobs, newest first, narrowed by what is given.
    package func list(state: Job.State? = nil, kind: String? = nil, tenant: String? = nil, limit: Int = 50) async throws -> [Job] {
        let table = self.table
        return try await database.read { database in
            let query = database.select().columns(Job.columns).from(table)
            if let state { query.where("state", .equal, state.rawValue) }
            if let kind { query.where("kind", .equal, kind) }
            if let tenant { query.where("tenant", .equal, tenant) }
            return try await query.orderBy("id", .descending).limit(limit).all(decoding: Job.self)
        }
    }

    /// Puts a job that is not queued or running back in the queue with fresh attempts (a dead
    /// one after its cause is fixed, or a finished one to run again: handlers are idempotent).
    @discardableResult
    package func retry(_ id: String) async throws -> Job {
        try await operate(id, allowed: [.dead, .failed, .cancelled, .succeeded], action: "retried", set: """
            state = 'queued', attempts = 0, run_at = \(bind: Timestamp.text(clock.now)), last_error = NULL, finished_at = NULL
            """)
    }

    /// Cancels a job that is waiting (queued, or failed awaiting a retry).
    @discardableResult
    package func cancel(_ id: String) async throws -> Job {
        try await operate(id, allowed: [.queued, .failed], action: "cancelled", set: "state = 'cancelled', finished_at = \(bind: Timestamp.text(clock.now))")
    }

    private func operate(_ id: String, allowed: [Job.State], action: String, set assignments: SQLQueryString) async throws -> Job {
        let table = self.table
        let now = Timestamp.text(clock.now)
        let states = allowed.map { $0.rawValue as any Encodable & Sendable }
        return try await database.transaction { database in
            let changed = try await database.raw("""
                UPDATE \(table) SET \(assignments), updated_at = \(bind: now) WHERE id = \(bind: id) AND state IN (\(binds: states))
                RETURNING \(unsafeRaw: Job.columns.joined(separator: ", "))
                """).first(decoding: Job.self)
            if let changed { return changed }
            guard let job = try await database.select().columns(Job.columns).from(table).where("id", .equal, id).first(decoding: Job.self) else {
                throw JobError.notFound(id)
            }
            throw JobError.wrongState(id, job.state, action)
        }
    }

    /// Waiting jobs per kind (queued, or failed awaiting a retry) and the age in seconds of the
    /// oldest one already due.
    package func depth() async throws -> [Depth] {
        let table = self.table
        let now = clock.now
        let rows = try await database.read { database in
            try await database.raw("""
                SELECT kind, COUNT(*) AS waiting, MIN(CASE WHEN run_at <= \(bind: Timestamp.text(now)) THEN run_at END) AS oldest
                FROM \(table) WHERE state IN ('queued', 'failed') GROUP BY kind
                """).all()
        }
        return try rows.map { row in
            let oldest = try row.decode(column: "oldest", as: String?.self).flatMap(Timestamp.date)
            return (try row.decode(column: "kind", as: String.self), try row.decode(column: "waiting", as: Int.self),
                    oldest.map { max(0, now.timeIntervalSince($0)) } ?? 0)
        }
    }

    /// Deletes finished jobs older than `age` (their rows have served their purpose).
    @discardableResult
    package func purgeFinished(olderThan age: Duration) async throws -> Int {
        let table = self.table
        let cutoff = Timestamp.text(clock.now.addingTimeInterval(-age.timeInterval))
        return try await database.transaction { database in
            try await database.raw("""
                DELETE FROM \(table) WHERE state IN ('succeeded', 'cancelled') AND finished_at < \(bind: cutoff) RETURNING id
                """).all().count
        }
    }
}
