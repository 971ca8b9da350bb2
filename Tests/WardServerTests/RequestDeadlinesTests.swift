import Testing
import WardHTTP
import WardServer

@Suite("Request deadlines")
struct RequestDeadlinesTests {
    /// Runs `operation` under `deadlines` in a task of its own, returning once the operation
    /// has started (its request is in the table).
    private static func start<Value: Sendable>(
        _ deadlines: RequestDeadlines, _ operation: @escaping @Sendable () async throws -> Value
    ) async -> Task<Value, any Error> {
        let (started, signal) = AsyncStream<Void>.makeStream()
        let task = Task {
            try await deadlines.run {
                signal.yield()
                return try await operation()
            }
        }
        for await _ in started { break }
        return task
    }

    @Test("only a request past its deadline is cancelled, once, and answers RequestTimedOut")
    func expiresOnlyLateRequests() async throws {
        let deadlines = RequestDeadlines(limit: .seconds(60))
        let late = await Self.start(deadlines) {
            try await Task.sleep(for: .seconds(600))
            return "finished"
        }
        // Nothing is past its deadline yet.
        #expect(deadlines.expire(at: .now) == 0)
        #expect(deadlines.expire(at: .now + .seconds(61)) == 1)
        #expect(deadlines.expire(at: .now + .seconds(62)) == 0, "a request is cancelled once")
        await #expect(throws: RequestTimedOut.self) { try await late.value }

        // A request that ends in time answers what it returned and leaves the table empty.
        #expect(try await deadlines.run { 42 } == 42)
        #expect(deadlines.expire(at: .now + .seconds(3_600)) == 0)
    }

    @Test("a request that ignores its cancellation still answers RequestTimedOut")
    func ignoredCancellation() async throws {
        let deadlines = RequestDeadlines(limit: .seconds(60))
        let stubborn = await Self.start(deadlines) {
            // Swallows its cancellation and answers as if nothing happened.
            try? await Task.sleep(for: .seconds(600))
            return "answered anyway"
        }
        #expect(deadlines.expire(at: .now + .seconds(61)) == 1)
        await #expect(throws: RequestTimedOut.self) { try await stubborn.value }
    }

    @Test("the sweeper cancels a request on its own, and the others run to the end")
    func sweeper() async throws {
        let deadlines = RequestDeadlines(limit: .milliseconds(200))
        let clock = ContinuousClock()
        let started = clock.now
        let slow = Task {
            try await deadlines.run {
                try await Task.sleep(for: .seconds(120))
                return "slow"
            }
        }
        let quick = try await deadlines.run {
            try await Task.sleep(for: .milliseconds(20))
            return "quick"
        }
        #expect(quick == "quick")
        await #expect(throws: RequestTimedOut.self) { try await slow.value }
        // About 0.2 s alone; well under the slow request's 120 s even on a loaded machine (25.7 s
        // was seen once, while tests blocked the cooperative pool's threads on child processes).
        #expect(clock.now - started < .seconds(60), "the slow request was cancelled, not waited for")
    }

    @Test("a request given a longer limit (a file upload) outlives the node's limit; the node's still cuts the others")
    func longerLimit() async throws {
        let deadlines = RequestDeadlines(limit: .milliseconds(100))
        let upload = try await deadlines.run(limit: .seconds(20)) {
            try await Task.sleep(for: .milliseconds(600))
            return "stored"
        }
        #expect(upload == "stored")
        await #expect(throws: RequestTimedOut.self) {
            try await deadlines.run {
                try await Task.sleep(for: .seconds(20))
                return "never"
            }
        }
    }

    @Test("the sweeper does not keep a node's table alive")
    func sweeperLetsGo() async throws {
        weak var released: RequestDeadlines?
        do {
            let deadlines = RequestDeadlines(limit: .milliseconds(100))
            #expect(try await deadlines.run { "started the sweeper" } == "started the sweeper")
            released = deadlines
        }
        for _ in 0..<100 where released != nil {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(released == nil)
    }
}
