import Synchronization
import Testing
@testable import WardStorage

@Suite("Lease pool")
struct LeasePoolTests {
    @Test("a failed open lets the next waiting caller try instead of leaving it waiting for a release that never comes")
    func failedOpenWakesWaiter() async throws {
        // Capacity one and nothing open: callers behind the first can only wait for its open.
        let attempts = Atomic<Int>(0)
        let started = AsyncStream.makeStream(of: Void.self)
        let pool = LeasePool<Int>([], capacity: 1) {
            let attempt = attempts.add(1, ordering: .relaxed).newValue
            if attempt == 1 {
                started.continuation.yield()
                try await Task.sleep(for: .milliseconds(200))
            }
            if attempt <= 2 { throw OpenFailed() }
            return attempt
        }

        let first = Task { try await pool.withLease { $0 } }
        for await _ in started.stream { break }
        let second = Task { try await pool.withLease { $0 } }
        let third = Task { try await pool.withLease { $0 } }

        // The first open fails; one waiter is woken to try and fails too; the other then opens.
        await #expect(throws: OpenFailed.self) { try await first.value }
        var outcomes: [Int?] = []
        for task in [second, third] { outcomes.append(try? await task.value) }
        #expect(outcomes.compactMap { $0 } == [3])
        #expect(outcomes.filter { $0 == nil }.count == 1)
        #expect(attempts.load(ordering: .relaxed) == 3)
        // The resource it opened is leased again afterwards.
        #expect(try await pool.withLease { $0 } == 3)
    }
}

private struct OpenFailed: Error {}
