import Foundation
package import WardCore

/// One unit of background work as the queue stores it.
package struct Job: Sendable, Equatable, Codable {
    /// Where a job is in its life. `failed` waits for a retry; `dead` has used every attempt.
    package enum State: String, Sendable, Codable, CaseIterable {
        case queued, running, failed, succeeded, dead, cancelled

        /// States a job leaves only when someone (a worker or an operator) acts.
        package var isFinished: Bool { [.succeeded, .dead, .cancelled].contains(self) }
    }

    package var id: String
    package var kind: String
    /// The handler's input as JSON text.
    package var payload: String
    package var tenant: String?
    package var state: State
    package var attempts: Int
    package var maxAttempts: Int
    package var runAt: String
    package var leaseHolder: String?
    package var leaseExpiresAt: String?
    package var lastError: String?
    package var uniqueKey: String?
    package var createdAt: String
    package var updatedAt: String
    package var startedAt: String?
    package var finishedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, kind, payload, tenant, state, attempts
        case maxAttempts = "max_attempts"
        case runAt = "run_at"
        case leaseHolder = "lease_holder"
        case leaseExpiresAt = "lease_expires_at"
        case lastError = "last_error"
        case uniqueKey = "unique_key"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    static let columns = CodingKeys.allColumns

    /// Whether the running attempt is the last one the policy allows.
    package var isFinalAttempt: Bool { attempts >= maxAttempts }

    /// The payload decoded as `type`.
    package func decodePayload<Payload: Decodable>(as type: Payload.Type) throws -> Payload {
        try JSONDecoder().decode(type, from: Data(payload.utf8))
    }
}

extension Job.CodingKeys: CaseIterable {
    static var allColumns: [String] { allCases.map(\.rawValue) }
}

/// How a kind of job is retried: exponential backoff from `firstDelay`, doubling each attempt
/// up to `maximumDelay`, each delay moved by up to ±`jitter` of itself so that jobs failing
/// together do not retry together.
package struct RetryPolicy: Sendable, Equatable {
    package var maxAttempts: Int
    package var firstDelay: Duration
    package var maximumDelay: Duration
    package var jitter: Double

    package init(maxAttempts: Int, firstDelay: Duration, maximumDelay: Duration = .seconds(3600), jitter: Double = 0.2) {
        self.maxAttempts = max(1, maxAttempts)
        self.firstDelay = firstDelay
        self.maximumDelay = maximumDelay
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The policy a node's settings give every kind that does not choose its own.
    package init(_ settings: JobSettings) {
        self.init(maxAttempts: settings.maxAttempts, firstDelay: settings.retryDelay)
    }

    /// The delay before the retry that follows failed attempt `attempt` (1 for the first).
    package func delay(after attempt: Int, random: Double = Double.random(in: -1...1)) -> Duration {
        let base = firstDelay.timeInterval * pow(2, Double(max(0, attempt - 1)))
        let capped = min(base, maximumDelay.timeInterval)
        let moved = capped * (1 + jitter * random)
        return .milliseconds(Int64(max(0, moved) * 1000))
    }
}

/// What a handler is given: the job as claimed (its `attempts` counts this attempt).
package struct JobRun: Sendable {
    package let job: Job
    /// Renewing the lease is the worker's; a handler that runs long may check this to stop early.
    package let worker: String
}

/// The code that runs one kind of job. Handlers must be idempotent: after a crash the same
/// job runs again from the start, and must then have its effect once.
package struct JobHandler: Sendable {
    package let kind: String
    package let policy: RetryPolicy
    package let run: @Sendable (JobRun) async throws -> Void
    /// Called once when a job of this kind dies because its worker vanished on the final
    /// attempt (the handler itself never learnt it failed), to undo what it left behind.
    package let abandoned: @Sendable (Job) async -> Void
    /// The delay before a job's next attempt when the job itself asks for one (its payload
    /// says "every 60 s"); nil falls back to `policy`.
    package let retryDelay: @Sendable (Job) -> Duration?

    package init(kind: String, policy: RetryPolicy, run: @escaping @Sendable (JobRun) async throws -> Void,
                 abandoned: @escaping @Sendable (Job) async -> Void = { _ in }, retryDelay: @escaping @Sendable (Job) -> Duration? = { _ in nil }) {
        self.kind = kind
        self.policy = policy
        self.run = run
        self.abandoned = abandoned
        self.retryDelay = retryDelay
    }
}

/// An error after which trying again cannot help (a mail server's 5xx): the job is dead at
/// once, with the error recorded, whatever attempts it had left.
package protocol PermanentJobFailure: Error {}

/// Why the queue refused an operator's request.
package enum JobError: Error, Equatable, CustomStringConvertible, ProblemConvertible {
    case notFound(String)
    case wrongState(String, Job.State, String)

    package var description: String {
        switch self {
        case .notFound(let id): "no job \(id)"
        case .wrongState(let id, let state, let action): "job \(id) is \(state.rawValue) and cannot be \(action)"
        }
    }

    package var problem: Problem {
        switch self {
        case .notFound: Problem(status: 404, title: "Unknown job", detail: description)
        case .wrongState: Problem(status: 409, title: "Job state conflict", detail: description)
        }
    }
}
