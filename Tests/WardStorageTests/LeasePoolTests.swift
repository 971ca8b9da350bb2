import Foundation
import Synchronization
import Testing
@testable import WardStorage

@Suite("Lease pool")
struct LeasePoolTests {
    struct OpenFailed: Error {}

    @Test("when opening fails, a caller waiting for that place opens one itself instead of waiting forever")
    func failedOpenWakesWaiter() async throws {
        let opens = Mutex(0)
        let gate = AsyncStream<Void>.makeStream()
        let pool = LeasePool<Int>([], capacity: 1) {
            let attempt = opens.withLock { $0 += 1; return $0 }
            if attempt == 1 {
                for await _ in gate.stream { break }
                throw OpenFailed()
            }
            return attempt
        }

        let first = Task { try await pool.withLease { $0 } }
        while opens.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(5)) }
        // The only place is being opened: this caller waits for it.
        let got = Mutex<Int?>(nil)
        let second = Task {
            let resource = try await pool.withLease { $0 }
            got.withLock { $0 = resource }
        }
        try await Task.sleep(for: .milliseconds(50))
        gate.continuation.yield()

        await #expect(throws: OpenFailed.self) { try await first.value }
        for _ in 0..<500 where got.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
        #expect(got.withLock { $0 } == 2, "the waiter opened the second resource")
        if got.withLock({ $0 }) == nil { pool.close() }
        _ = try? await second.value
        #expect(pool.all == [2])
        // The resource went back to the pool and is handed out again without opening.
        #expect(try await pool.withLease { $0 } == 2)
        #expect(opens.withLock { $0 } == 2)
    }
}
