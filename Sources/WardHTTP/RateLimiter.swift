import Foundation
package import HTTPTypes
package import Hummingbird
package import Prometheus
import Synchronization
package import WardCore

/// Counts each caller's use of the rate-limited route classes in this node's memory and says
/// when one is over its policy. Each key (policy, tenant, user) keeps one number, the
/// generic cell rate algorithm's theoretical arrival time: a request is allowed when it lands
/// no more than `window − window/limit` ahead of its predecessors' schedule, so a quiet caller
/// may burst to the whole quota and a steady one gets `limit` per `window`, never more.
///
/// The counters are per node: behind a balancer over N nodes a caller is held to at most N
/// times the quota (the shared counters are the edge issue's).
package final class RateLimiter: Sendable {
    /// What a request's use of a policy came to.
    package struct Decision: Sendable, Equatable {
        package var allowed: Bool
        /// Requests the caller may still make at once.
        package var remaining: Int
        /// Seconds until the quota is whole again.
        package var reset: Int
        /// Seconds to wait before the next request is allowed (0 when allowed).
        package var retryAfter: Int
    }

    private let policies: [String: RateLimitPolicy]
    fileprivate let arrivals = Mutex<[String: Double]>([:])
    private let clock: @Sendable () -> Double
    private let rejected: MetricCache<String, Counter>
    private let registry: PrometheusCollectorRegistry?
    /// The counters shared by the nodes of one database, when there are several.
    private let ledger: (any QuotaLedger)?
    /// This node's unspent share of a key's shared quota: when it was taken, what is left, and
    /// the request for the next share while one is under way.
    private struct Lease { var taken: Double; var balance: Int; var pending: Task<Int, Never>? }
    private let leases = Mutex<[String: Lease]>([:])

    /// `clock` gives Unix seconds (tests step it): nodes sharing a ledger read the same time.
    package init(policies: [RateLimitPolicy], registry: PrometheusCollectorRegistry? = nil, ledger: (any QuotaLedger)? = nil,
                 clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.policies = Dictionary(policies.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.clock = clock
        self.registry = registry
        self.rejected = MetricCache()
        self.ledger = ledger
    }

    /// The policy named `name`, when configured.
    package func policy(_ name: String) -> RateLimitPolicy? { policies[name] }

    /// How many of a shared quota a node takes at a time: a twentieth of it. Across nodes a
    /// key then gets at most its quota plus the shares other nodes hold unspent (at most
    /// nodes × this in any window; a share unspent for a minute is dropped, never carried).
    package static func leaseSize(_ policy: RateLimitPolicy) -> Int { max(1, policy.limit / 20) }

    /// Counts one request of `key` against `policy`: this node's GCRA, then, with a ledger, the
    /// same algorithm over the key's arrival time shared by all nodes, taken in shares so that
    /// the database is written once per `leaseSize` requests, not per request. A refused
    /// request is not counted. Should the ledger fail, the node's own count still holds (a
    /// limiter must not take the API down with the database).
    package func attempt(_ policy: RateLimitPolicy, key: String) async -> Decision {
        let local = attemptHere(policy, key: key)
        guard local.allowed, let ledger else { return local }
        let slot = policy.name + "\u{1F}" + key
        // Requests arriving together wait for one lease rather than each taking a share.
        for _ in 0..<64 {
            let now = clock()
            let next = leases.withLock { leases -> Task<Int, Never>? in
                if var lease = leases[slot], now - lease.taken < 60 {
                    if lease.balance > 0 {
                        lease.balance -= 1
                        leases[slot] = lease
                        return nil
                    }
                    if let pending = lease.pending { return pending }
                }
                let size = Self.leaseSize(policy)
                let task = Task { (try? await ledger.lease(policy: policy, key: key, now: now, amount: size)) ?? size }
                leases[slot] = Lease(taken: now, balance: 0, pending: task)
                return task
            }
            guard let next else { return local }
            let granted = await next.value
            leases.withLock { leases in
                guard var lease = leases[slot], lease.pending == next else { return }
                lease.pending = nil
                lease.balance += granted
                leases[slot] = lease
                if leases.count > 100_000 { leases = leases.filter { now - $0.value.taken < 60 } }
            }
            if granted == 0 { break }
        }
        giveBackHere(policy, key: key)
        countRefusal(policy)
        let wait = max(1, Int((Double(policy.window) / Double(policy.limit)).rounded(.up)))
        return Decision(allowed: false, remaining: 0, reset: wait, retryAfter: wait)
    }

    private func countRefusal(_ policy: RateLimitPolicy) {
        guard let registry else { return }
        rejected.value(for: policy.name) {
            registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "ratelimit_rejected", unitName: "total",
                                                                 helpText: "Requests refused with 429 by rate-limit policy"),
                                 labels: [("policy", policy.name)])
        }.increment()
    }

    /// This node's GCRA for `key` under `policy`.
    private func attemptHere(_ policy: RateLimitPolicy, key: String) -> Decision {
        let now = clock()
        let interval = Double(policy.window) / Double(policy.limit)
        let window = Double(policy.window)
        let decision = arrivals.withLock { arrivals -> Decision in
            let slot = policy.name + "\u{1F}" + key
            if arrivals.count > 100_000 {
                // Forget callers whose quota is whole again, so many callers cannot grow memory.
                arrivals = arrivals.filter { $0.value > now }
            }
            let due = max(arrivals[slot] ?? now, now)
            let next = due + interval
            if next - now > window + 1e-9 {
                let wait = next - now - window
                return Decision(allowed: false, remaining: 0, reset: Int((due - now).rounded(.up)), retryAfter: max(1, Int(wait.rounded(.up))))
            }
            arrivals[slot] = next
            let remaining = Int(((window - (next - now)) / interval + 1e-9).rounded(.down))
            return Decision(allowed: true, remaining: remaining, reset: Int((next - now).rounded(.up)), retryAfter: 0)
        }
        if !decision.allowed { countRefusal(policy) }
        return decision
    }
}

extension RateLimiter {
    /// Takes back one counted request of `key` (it was refused as malformed).
    package func giveBack(_ policy: RateLimitPolicy, key: String) {
        giveBackHere(policy, key: key)
        guard ledger != nil else { return }
        // The shared quota's request goes back into this node's share.
        let slot = policy.name + "\u{1F}" + key, now = clock()
        leases.withLock { leases in
            if var lease = leases[slot], now - lease.taken < 60 {
                lease.balance += 1
                leases[slot] = lease
            } else {
                leases[slot] = Lease(taken: now, balance: 1, pending: nil)
            }
        }
    }

    /// Takes back one request from this node's GCRA.
    private func giveBackHere(_ policy: RateLimitPolicy, key: String) {
        let interval = Double(policy.window) / Double(policy.limit)
        arrivals.withLock { arrivals in
            let slot = policy.name + "\u{1F}" + key
            if let due = arrivals[slot] { arrivals[slot] = due - interval }
        }
    }
}

extension RateLimiter {
    /// One request counted against each policy that applies to it, with the headers saying so.
    package struct Admission: Sendable {
        /// The policies and keys the request was counted against.
        package var counted: [(policy: RateLimitPolicy, key: String)]
        /// The policy that refused it, with its decision; nil when it was admitted.
        package var refusal: RateLimited?
        /// `RateLimit-Policy` and `RateLimit`, one list member per policy.
        package var headers: HTTPFields
    }

    /// Counts one request against each of `uses` (a policy's name and the caller's key in it;
    /// names not configured are skipped). A refusal by one gives back the counts already taken
    /// by the others. Nil when no policy applies.
    package func admit(_ uses: [(policy: String, key: String)]) async -> Admission? {
        var counted: [(policy: RateLimitPolicy, key: String)] = [], shown: [(RateLimitPolicy, Decision)] = []
        for (name, key) in uses {
            guard let policy = policy(name) else { continue }
            let decision = await attempt(policy, key: key)
            shown.append((policy, decision))
            guard decision.allowed else {
                for (earlier, key) in counted { giveBack(earlier, key: key) }
                return Admission(counted: [], refusal: RateLimited(policy: policy, decision: decision), headers: Self.headers(shown))
            }
            counted.append((policy, key))
        }
        return shown.isEmpty ? nil : Admission(counted: counted, refusal: nil, headers: Self.headers(shown))
    }

    /// Gives back what `admission` counted (the request was refused as malformed).
    package func giveBack(_ admission: Admission) {
        for (policy, key) in admission.counted { giveBack(policy, key: key) }
    }

    private static func headers(_ shown: [(RateLimitPolicy, Decision)]) -> HTTPFields {
        var headers: HTTPFields = [:]
        headers[.rateLimitPolicy] = shown.map { $0.0.headerValue }.joined(separator: ", ")
        headers[.rateLimit] = shown.map { $0.1.headerValue($0.0) }.joined(separator: ", ")
        return headers
    }
}

extension RateLimiter.Admission {
    /// The 429 answer of a refused admission: problem+json with `Retry-After` and the headers.
    package func refusalResponse(requestID: String) -> Response? {
        guard let refusal else { return nil }
        var problem = refusal.problem
        problem.requestID = requestID
        var headers = self.headers
        headers[.retryAfter] = String(refusal.decision.retryAfter)
        return ProblemRendering.response(for: problem, headers: headers)
    }
}

extension HTTPField.Name {
    /// draft-ietf-httpapi-ratelimit-headers: the quotas a response counted against.
    static let rateLimitPolicy = HTTPField.Name("RateLimit-Policy")!
    /// What is left of each, and when it is whole again.
    static let rateLimit = HTTPField.Name("RateLimit")!
}

extension RateLimiter.Decision {
    /// The `RateLimit` header of draft-ietf-httpapi-ratelimit-headers for `policy`.
    package func headerValue(_ policy: RateLimitPolicy) -> String { "\"\(policy.name)\";r=\(remaining);t=\(reset)" }
}

/// The arrival times the nodes of one database share: `lease` admits up to `amount` requests
/// of `key` under `policy` at `now` (Unix seconds) by the generic cell rate algorithm over the
/// shared arrival time, and returns how many it admitted (0 when the quota is used up).
package protocol QuotaLedger: Sendable {
    func lease(policy: RateLimitPolicy, key: String, now: Double, amount: Int) async throws -> Int
}

/// A caller over a rate limit: 429, with when to try again.
package struct RateLimited: Error, ProblemConvertible {
    package let policy: RateLimitPolicy
    package let decision: RateLimiter.Decision

    package var problem: Problem {
        Problem(status: 429, title: "Too many requests",
                detail: "The \(policy.name) limit is \(policy.limit) requests in \(policy.window) seconds; try again in \(decision.retryAfter) seconds.")
    }
    package var retryAfter: Int? { decision.retryAfter }
}
