import Synchronization
import Testing
import WardCore
import WardHTTP

@Suite("Rate limiter")
struct RateLimiterTests {
    final class Clock: Sendable {
        let seconds = Mutex<Double>(1_000)
        func advance(_ by: Double) { seconds.withLock { $0 += by } }
    }

    @Test("a quiet caller may burst to the quota, then gets one request per window/limit; callers are counted apart")
    func quota() async {
        let clock = Clock()
        let policy = RateLimitPolicy(name: "booking", limit: 3, window: 60)
        let limiter = RateLimiter(policies: [policy], clock: { clock.seconds.withLock { $0 } })
        var burst: [RateLimiter.Decision] = []
        for _ in 0..<3 { burst.append(await limiter.attempt(policy, key: "acme/ada")) }
        #expect(burst.map(\.allowed) == [true, true, true])
        #expect(burst.map(\.remaining) == [2, 1, 0])
        let refused = await limiter.attempt(policy, key: "acme/ada")
        #expect(!refused.allowed)
        #expect(refused.retryAfter == 20)
        // Another caller, or the same user id in another clinic, has a quota of its own.
        #expect(await limiter.attempt(policy, key: "acme/bo").allowed)
        #expect(await limiter.attempt(policy, key: "zenith/ada").allowed)
        // A refusal is not counted: 20 s on, exactly one more is allowed.
        clock.advance(19)
        #expect(await !limiter.attempt(policy, key: "acme/ada").allowed)
        clock.advance(1)
        #expect(await limiter.attempt(policy, key: "acme/ada").allowed)
        #expect(await !limiter.attempt(policy, key: "acme/ada").allowed)
        // After a quiet window the whole quota is back, never more.
        clock.advance(600)
        var again: [Bool] = []
        for _ in 0..<4 { again.append(await limiter.attempt(policy, key: "acme/ada").allowed) }
        #expect(again == [true, true, true, false])
        // A steady caller gets the rate: one per 20 s over 10 minutes, 30 in all.
        clock.advance(600)
        var allowed = 0
        for _ in 0..<600 {
            if await limiter.attempt(policy, key: "acme/steady").allowed { allowed += 1 }
            clock.advance(1)
        }
        #expect(allowed == 3 + 30 - 1)
    }

    @Test("policies are read as name=LIMIT/UNIT; anything else is refused with the entry")
    func parsing() throws {
        let policies = try RateLimitPolicy.parse("booking=100/h, export=5/min").get()
        #expect(policies == [RateLimitPolicy(name: "booking", limit: 100, window: 3_600), RateLimitPolicy(name: "export", limit: 5, window: 60)])
        #expect(policies[0].headerValue == "\"booking\";q=100;w=3600")
        let configured = try RateLimitPolicy.configured("booking=3/h, address=off, kiosk=10/s").get()
        #expect(configured.first { $0.name == "booking" }?.limit == 3)
        #expect(!configured.contains { $0.name == "address" })
        #expect(configured.first { $0.name == "user" } == RateLimitPolicy(name: "user", limit: 1_000, window: 3_600))
        #expect(configured.first { $0.name == "kiosk" }?.window == 1)
        for bad in ["booking=100", "booking=0/h", "booking=10/week", "=5/s", "book ing=5/s"] {
            #expect(throws: RateLimitPolicyError.self) { try RateLimitPolicy.parse(bad).get() }
        }
    }
}
