import Foundation
import Synchronization
import Testing
import WardHTTP
@testable import WardIdentity

@Suite("Principal cache")
struct PrincipalCacheTests {
    static let sessionExpiresAt = Date(timeIntervalSince1970: 2_000_000_000)

    static func principal() -> Principal {
        Principal(userID: "u1", tenant: "acme", sessionID: "s1", displayName: "Nurse", email: "nurse@acme.test",
                  roles: ["nurse"], permissions: ["patients:read"], sessionExpiresAt: sessionExpiresAt)
    }

    static func entry(_ principal: Principal) -> PrincipalCache.Entry {
        PrincipalCache.Entry(principal: principal, loadedAt: .now, lastSeen: Date(), persistedLastSeen: Date())
    }

    /// Holds loads back until the test opens it.
    final class Gate: Sendable {
        private let stream: AsyncStream<Void>
        private let continuation: AsyncStream<Void>.Continuation

        init() { (stream, continuation) = AsyncStream.makeStream() }

        /// Returns once the gate is open (one waiter at a time).
        func passed() async { for await _ in stream {} }

        func open() { continuation.finish() }
    }

    /// A load of `key` as the identity service's: it reads `principal()` (once `gate` opens)
    /// and caches it.
    static func load(_ cache: PrincipalCache, _ key: String, after gate: Gate) -> @Sendable (Int) async throws -> Principal {
        { generation in
            await gate.passed()
            cache.store(key, entry(principal()), loadedIn: generation)
            return principal()
        }
    }

    /// Starts a request whose reload of `key` is held at a gate, once the cache has begun it.
    static func heldReload(_ cache: PrincipalCache, _ key: String) async throws -> (request: Task<Principal, any Error>, gate: Gate) {
        let gate = Gate()
        let request = Task { try await cache.reload(key, Self.load(cache, key, after: gate)) }
        #expect(try await Self.eventually { cache.reloadCounts.started == 1 })
        return (request, gate)
    }

    /// Waits (bounded) until `condition` holds; the cache's own counters say when it does.
    static func eventually(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<2_000 {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(5))
        }
        return condition()
    }

    @Test("requests of one session that find its principal stale wait for one reload, not one each")
    func concurrentReloadsShareOne() async throws {
        let cache = PrincipalCache(), key = PrincipalCache.key(tenant: "acme", session: "s1")
        let loads = Atomic<Int>(0), gate = Gate(), gated = Self.load(cache, key, after: gate)
        let load: @Sendable (Int) async throws -> Principal = { generation in
            loads.add(1, ordering: .relaxed)
            return try await gated(generation)
        }
        try await withThrowingTaskGroup(of: Principal.self) { group in
            for _ in 0..<10 { group.addTask { try await cache.reload(key, load) } }
            #expect(try await Self.eventually { cache.reloadCounts.started + cache.reloadCounts.joined == 10 })
            gate.open()
            for try await principal in group { #expect(principal == Self.principal()) }
        }
        #expect(loads.load(ordering: .relaxed) == 1)
        #expect(cache.reloadCounts.started == 1)
        #expect(cache.entry(key)?.principal == Self.principal())
    }

    @Test("a reload under way when the user's roles change is not kept, and requests after the change read afresh")
    func evictionDuringReload() async throws {
        let cache = PrincipalCache(), key = PrincipalCache.key(tenant: "acme", session: "s1")
        let (stale, gate) = try await Self.heldReload(cache, key)
        cache.evict(tenant: "acme", user: "u1")

        // A request after the change does not join the reload that began before it.
        let widened = Principal(userID: "u1", tenant: "acme", sessionID: "s1", displayName: "Nurse", email: "nurse@acme.test",
                                roles: ["nurse", "tenant_admin"], permissions: ["patients:read", "users:manage"],
                                sessionExpiresAt: Self.sessionExpiresAt)
        let fresh = Task {
            try await cache.reload(key) { generation in
                cache.store(key, Self.entry(widened), loadedIn: generation)
                return widened
            }
        }
        #expect(try await Self.eventually { cache.reloadCounts.started == 2 })
        #expect(try await fresh.value == widened)
        #expect(cache.reloadCounts.joined == 0)

        gate.open()
        #expect(try await stale.value == Self.principal())
        // The stale reload finished last, and the cache still holds what the fresh one read.
        #expect(cache.entry(key)?.principal == widened)
    }

    @Test("a request cancelled while it waits for a reload (its deadline passed) leaves at once; the reload goes on for the others")
    func cancelledWaiterLeaves() async throws {
        let cache = PrincipalCache(), key = PrincipalCache.key(tenant: "acme", session: "s1")
        let (first, gate) = try await Self.heldReload(cache, key)
        let second = Task { try await cache.reload(key) { _ in Issue.record("a joining request started a reload"); return Self.principal() } }
        #expect(try await Self.eventually { cache.reloadCounts.joined == 1 })

        second.cancel()
        await #expect(throws: CancellationError.self) { try await second.value }
        // A request already cancelled when it arrives does not wait either.
        let arrival = Gate()
        let late = Task {
            await arrival.passed()  // at once once cancelled
            return try await cache.reload(key) { _ in Self.principal() }
        }
        late.cancel()
        await #expect(throws: CancellationError.self) { try await late.value }

        gate.open()
        #expect(try await first.value == Self.principal())
        #expect(cache.entry(key)?.principal == Self.principal())
    }

    @Test("a reload that fails (the session ended) fails every request waiting on it, and the next request reads again")
    func failedReloadFailsItsWaiters() async throws {
        let cache = PrincipalCache(), key = PrincipalCache.key(tenant: "acme", session: "s1")
        let gate = Gate()
        let first = Task {
            try await cache.reload(key) { _ in
                await gate.passed()
                throw IdentityError.unauthenticated("The session has ended.")
            }
        }
        #expect(try await Self.eventually { cache.reloadCounts.started == 1 })
        let second = Task { try await cache.reload(key) { _ in Issue.record("a joining request started a reload"); return Self.principal() } }
        #expect(try await Self.eventually { cache.reloadCounts.joined == 1 })

        gate.open()
        await #expect(throws: IdentityError.self) { try await first.value }
        await #expect(throws: IdentityError.self) { try await second.value }
        #expect(cache.entry(key) == nil)

        let opened = Gate()
        opened.open()
        #expect(try await cache.reload(key, Self.load(cache, key, after: opened)) == Self.principal())
        #expect(cache.reloadCounts == (started: 2, joined: 1))
    }
}
